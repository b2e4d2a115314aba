"""The headers every response carries (docs/security.md), and the one
response that has a policy of its own; set in :mod:`web.security`."""

from __future__ import annotations

__all__ = ["CONTENT_SECURITY_POLICY", "FRAMED_MAIL_HEADERS", "HSTS", "SECURITY_HEADERS"]

#: Scripts, styles, pictures and connections (Socket.IO included) from this site
#: only, never inline; no plugin; forms post here; no page inside another's
#: frame (a host console's buttons cannot be clickjacked).
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self'", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
    "form-action 'self'", "frame-ancestors 'none'"))
#: On every response, pages, API answers, files and errors alike. Personal
#: links are secrets in URLs: no Referer carries them to another site.
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "Cross-Origin-Opener-Policy": "same-origin",
}
#: The one response framed, by this site only: a mail's HTML part in the mail
#: preview, whose inline styles mail clients need. Nothing in it may run.
FRAMED_MAIL_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "frame-ancestors 'self'; sandbox",
    "X-Frame-Options": "SAMEORIGIN",
}
#: Over HTTPS only (RFC 6797: a browser ignores it over plain HTTP anyway).
HSTS = "max-age=31536000; includeSubDomains"

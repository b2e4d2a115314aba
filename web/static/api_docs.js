// The API's docs page (/api/v1/docs): Swagger UI reading /api/v1/openapi.json.
// validatorUrl null: no badge fetched from validator.swagger.io (no page loads
// anything from another site).
"use strict";
(function () {
  const root = document.getElementById("api-docs");
  window.SwaggerUIBundle({
    url: root.dataset.document,
    domNode: root,
    validatorUrl: null,
    deepLinking: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
})();

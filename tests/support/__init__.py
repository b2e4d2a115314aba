"""What the tests share: databases (:mod:`.backends`), the app and its clients
(:mod:`.app`), real servers (:mod:`.servers`), Socket.IO listeners (:mod:`.live`),
reaching into a database from outside (:mod:`.database`), mail (:mod:`.mail`),
Hypothesis' profiles (:mod:`.hypothesis`) and the browser's checks
(:mod:`.browser`). ``tests/conftest.py`` loads the fixtures of these modules as
plugins; tests import helpers from them, never from a ``conftest.py``."""

"""The browser lab: pages the mini-server serves to a real browser, on test host names, over http and https.

- `pages`: the lab's routes (login pages per mode, an XSS sink, the "other site", a collector, a transfer).
- `tls`: a certificate made at run time for bank.test, evil.test and their subdomains.
- `servers`: `LabServer`, one mini-server app plus the lab's pages, listening on http and https at once.
- `recorded/`: results recorded in Chromium, shown where no browser is installed.
"""

"""What the chapters see with: recordings of real traffic, timings, and the measured tables and figures.

- `recorder` (`Recorder`, `Exchange`) records httpx traffic; `watchedstore` notes what a server
  did to its store; `sequence` draws it all as sequence diagrams.
- `measure` times small operations robustly; `requestcost` measures one request's authentication.
- The chapters' generated tables and figures: `storetable` (chapter 2), `comparison` and
  `liverows` (chapter 4), `guide` (chapter 5's decision guide), `denylist` (chapter 6),
  `refreshfigures` (chapter 10).
"""

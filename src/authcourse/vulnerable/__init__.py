"""DELIBERATELY VULNERABLE CODE, FOR TEACHING ONLY, ON LOOPBACK ONLY. NEVER USE OR EXPOSE IT.

- `doors`: JWT verifiers that each make one real-world mistake (chapter 11)
- `jwtlab`: the server that puts them behind doors next to the hardened one (`authcourse serve --vulnerable`)
- `fixation`: a session server whose login adopts a planted id (chapter 9)
- `plainids`: a session server whose store keeps the session ids in clear (chapter 14's store dump)
- `fence`: the loopback-only rule every one of these servers obeys
- `wordlist`: secrets people actually pick, for the dictionary attack on HS256
- `labs`, `browserlabs`: the attack labs' targets, which record whether a lab was solved

Nothing else in the package imports this folder, except `authcourse serve --vulnerable` (cli.py) and the
lab grader (grading/labs.py), each inside the one function that needs it (tests/test_vulnerable.py keeps it so).
"""

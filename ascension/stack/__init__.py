"""`ascension stack up | down | status`: the real stack on one machine, natively, on loopback.

`config` reads the one env file, `run` starts and stops the components (the servers through
`ascension.servers`, the test harness's runners), `health` probes each one as its users would,
`state` keeps the record of what runs, and `cli` is the command's face.
"""

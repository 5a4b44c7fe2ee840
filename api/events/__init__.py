"""Live analysis events for the WebSocket route, one job per module.

`hub` wires them and decides what each socket gets; `consumer` reads the broker in its own
thread; `event_log` reads the ``analysis_events`` table (start position, the poll without a
broker, catch-up, replay); `registry` keeps each user's sockets and ordered lane; `holds` adds
the detected map to ``holds_detected`` frames; `progress_poller` sends progress; `messages` is
the frame format. The running hub is `ApiResources.events`, reached by routes through
`api.deps.LiveEvents`.
"""

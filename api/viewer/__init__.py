"""The overlay viewer's page, script and style, shipped as package data (no build step, nothing
fetched from a CDN): `api.routes.viewer` serves them.

``viewer.js`` is the browser's twin of `ascension.render.Overlay` (the phone's painter): it
decodes the result document's timelines as ``schema/json/analysis_result.schema.json`` says and
draws the holds, the ghost and the climber's skeleton over the video at its current time, with
the advice of the moment beside it.
"""

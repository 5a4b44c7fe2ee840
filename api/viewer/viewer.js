// The overlay viewer: the climber's video with the analysis drawn over it, as the phone's
// painter draws it (ascension/render.py is the Python twin). The result document's format is
// schema/json/analysis_result.schema.json; engines/document/decode.py is its reference decoder.
"use strict";

(() => {
  // MediaPipe Pose bones drawn (landmark index pairs), the face left out: as ascension.render.
  const BONES = [
    [11, 12], [11, 13], [13, 15], [12, 14], [14, 16], [15, 19], [16, 20],
    [11, 23], [12, 24], [23, 24], [23, 25], [25, 27], [24, 26], [26, 28],
    [27, 29], [29, 31], [27, 31], [28, 30], [30, 32], [28, 32],
  ];
  const CLIMBER = "rgb(80, 220, 80)";
  const GHOST = "rgb(230, 90, 230)";
  // One colour per hold type; none of them near the climber's green or the ghost's magenta.
  const HOLD_COLOURS = {
    jug: "rgb(255, 200, 0)",
    crimp: "rgb(255, 64, 64)",
    sloper: "rgb(77, 166, 255)",
    pinch: "rgb(255, 140, 0)",
    pocket: "rgb(160, 112, 255)",
    edge: "rgb(255, 255, 64)",
    volume: "rgb(0, 80, 255)",
    foot_chip: "rgb(208, 208, 208)",
    undercling: "rgb(0, 224, 224)",
  };
  // Advice is shown from half a second before its range to half a second after (as render.py).
  const ADVICE_MARGIN_S = 0.5;
  // Frames with quality DETECTED (0) or INTERPOLATED (1) have a pose.
  const POSED_MAX_QUALITY = 1;

  const $ = (id) => document.getElementById(id);
  const video = $("video");
  const canvas = $("overlay");
  const context = canvas.getContext("2d");

  function fail(message) {
    document.body.dataset.state = "error";
    const status = $("status");
    status.textContent = message;
    status.classList.add("error");
  }

  // The link's token: read from the fragment (never sent to a server), then dropped from the
  // address bar; kept for this tab only, so a reload still works until the link expires.
  function viewerToken(analysisId) {
    const key = `ascension.viewer.${analysisId}`;
    const fromLink = new URLSearchParams(location.hash.slice(1)).get("token");
    if (fromLink) {
      sessionStorage.setItem(key, fromLink);
      history.replaceState(null, "", location.pathname + location.search);
      return fromLink;
    }
    return sessionStorage.getItem(key);
  }

  async function getJson(url, token) {
    const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const message = body && body.error ? body.error.message : `HTTP ${response.status}`;
      throw new Error(message);
    }
    return body;
  }

  // --- The document's timelines (schema $defs/timeline, decoding steps 1-5) ----------------
  function decodeTimeline(block) {
    const frames = block.frame_count;
    const times = new Float64Array(frames);
    let ms = block.time_ms.start;
    for (let i = 0; i < frames; i++) {
      if (i > 0) ms += block.time_ms.steps[i - 1];
      times[i] = ms / 1000;
    }
    const posedIndex = new Int32Array(frames).fill(-1);
    let frame = 0;
    let posed = 0;
    block.quality.values.forEach((quality, run) => {
      for (let k = 0; k < block.quality.runs[run]; k++, frame++) {
        if (quality <= POSED_MAX_QUALITY) posedIndex[frame] = posed++;
      }
    });
    const count = block.landmark_count;
    const channel = (name) => {
      const { scale, deltas } = block[name];
      const values = new Float32Array(count * posed);
      for (let landmark = 0; landmark < count; landmark++) {
        let sum = 0;
        const row = deltas[landmark];
        for (let p = 0; p < posed; p++) {
          sum += row[p];
          values[landmark * posed + p] = sum / scale;
        }
      }
      return values;
    };
    return {
      times, posedIndex, posed, count,
      firstFrame: block.first_frame || 0,
      x: channel("x"),
      y: channel("y"),
    };
  }

  // Landmarks of one frame as normalised [x, y] pairs; null for a frame without a pose.
  function pose(timeline, frame) {
    if (frame < 0 || frame >= timeline.posedIndex.length) return null;
    const p = timeline.posedIndex[frame];
    if (p < 0) return null;
    const points = [];
    for (let landmark = 0; landmark < timeline.count; landmark++) {
      const at = landmark * timeline.posed + p;
      points.push([timeline.x[at], timeline.y[at]]);
    }
    return points;
  }

  // Index of the analysed frame nearest to time t (ascension.render.Overlay.frame_at); -1 more
  // than a frame outside the analysed frames, where there is no skeleton to show.
  function frameAt(times, t, frameS) {
    const last = times.length - 1;
    if (last < 0 || t < times[0] - frameS || t > times[last] + frameS) return -1;
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (times[mid] < t) lo = mid + 1; else hi = mid;
    }
    if (lo > 0 && t - times[lo - 1] < times[lo] - t) return lo - 1;
    return lo;
  }

  // --- Drawing ------------------------------------------------------------------------------
  function fitCanvas() {
    const box = canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(box.width * ratio));
    const height = Math.max(1, Math.round(box.height * ratio));
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    return ratio;
  }

  function drawHolds(analysis, ratio) {
    const { image_width: w, image_height: h, items } = analysis.doc.holds;
    const sx = canvas.width / w;
    const sy = canvas.height / h;
    for (const hold of items) {
      const onRoute = analysis.route.has(hold.id);
      context.strokeStyle = HOLD_COLOURS[hold.type] || "rgb(255, 255, 255)";
      context.lineWidth = (onRoute ? 3 : 2) * ratio;
      context.beginPath();
      const outline = hold.polygon;
      if (outline.length >= 6) {
        context.moveTo(outline[0] * sx, outline[1] * sy);
        for (let i = 2; i < outline.length; i += 2) context.lineTo(outline[i] * sx, outline[i + 1] * sy);
        context.closePath();
      } else if (hold.bbox) {
        const [x0, y0, x1, y1] = hold.bbox;
        context.rect(x0 * sx, y0 * sy, (x1 - x0) * sx, (y1 - y0) * sy);
      } else {
        // Holds the climber placed have a centre only.
        context.arc(hold.x * sx, hold.y * sy, 7 * ratio, 0, 2 * Math.PI);
      }
      context.stroke();
    }
  }

  function drawSkeleton(points, colour, ratio) {
    const w = canvas.width;
    const h = canvas.height;
    context.strokeStyle = colour;
    context.lineWidth = 3 * ratio;
    context.lineCap = "round";
    context.beginPath();
    for (const [a, b] of BONES) {
      context.moveTo(points[a][0] * w, points[a][1] * h);
      context.lineTo(points[b][0] * w, points[b][1] * h);
    }
    context.stroke();
    context.beginPath();
    context.arc(points[0][0] * w, points[0][1] * h, 9 * ratio, 0, 2 * Math.PI);
    context.stroke();
  }

  function draw(analysis, t) {
    const ratio = fitCanvas();
    context.clearRect(0, 0, canvas.width, canvas.height);
    drawHolds(analysis, ratio);
    const frame = frameAt(analysis.skeleton.times, t, analysis.frameS);
    if (analysis.ghost) {
      const ghost = pose(analysis.ghost, frame - analysis.ghost.firstFrame);
      if (ghost) drawSkeleton(ghost, GHOST, ratio);
    }
    const climber = pose(analysis.skeleton, frame);
    if (climber) drawSkeleton(climber, CLIMBER, ratio);
    showMoment(analysis, t);
    // What was drawn, for whoever checks the page (the browser test waits on it).
    document.body.dataset.frame = String(frame);
    document.body.dataset.time = t.toFixed(3);
  }

  function showMoment(analysis, t) {
    const climb = analysis.doc.extra && analysis.doc.extra.climb;
    let state = "";
    if (climb) state = t < climb.start_s ? "before the climb" : t > climb.end_s ? "after the climb" : "climbing";
    $("clock").textContent = `${t.toFixed(1)} s ${state}`;
    const now = analysis.doc.advice.filter(
      (item) => item.start_s - ADVICE_MARGIN_S <= t && t <= item.end_s + ADVICE_MARGIN_S,
    );
    const key = now.map((item) => `${item.rule_id}@${item.start_s}`).join("|");
    if (key === analysis.shownAdvice) return;
    analysis.shownAdvice = key;
    const list = $("advice");
    list.replaceChildren(...now.map((item) => {
      const entry = document.createElement("li");
      entry.className = item.severity;
      entry.dataset.rule = item.rule_id;
      const severity = document.createElement("span");
      severity.className = "severity";
      const move = item.move_index === null || item.move_index === undefined ? "" : ` · move ${item.move_index + 1}`;
      severity.textContent = `${item.severity}${move}`;
      entry.append(severity, document.createTextNode(item.message_en));
      return entry;
    }));
    if (!now.length) {
      const none = document.createElement("li");
      none.textContent = "Nothing to point out at this moment.";
      list.append(none);
    }
  }

  function showLegend(doc) {
    const types = [...new Set(doc.holds.items.map((hold) => hold.type))].sort();
    const rows = [["climber", CLIMBER]];
    if (doc.ghost) rows.push(["ghost climber", GHOST]);
    for (const type of types) rows.push([`${type.replace("_", " ")} hold`, HOLD_COLOURS[type] || "rgb(255, 255, 255)"]);
    $("legend").replaceChildren(...rows.map(([name, colour]) => {
      const row = document.createElement("li");
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colour;
      row.append(swatch, document.createTextNode(name));
      return row;
    }));
  }

  // --- Time: the video's own clock, or a slider when the video is not available -------------
  function followVideo(analysis, url) {
    const redraw = () => draw(analysis, video.currentTime);
    video.addEventListener("loadeddata", redraw);
    video.addEventListener("seeked", redraw);
    video.addEventListener("pause", redraw);
    // A video this browser cannot decode still leaves the analysis to look at.
    video.addEventListener("error", () => {
      $("status").textContent = "This browser cannot play the video. The analysis is drawn on a blank frame.";
      followSlider(analysis);
    }, { once: true });
    if ("requestVideoFrameCallback" in video) {
      // The time of the frame being shown, not of the last timeupdate event.
      const onFrame = (_now, frame) => {
        draw(analysis, frame.mediaTime);
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    } else {
      const tick = () => {
        if (!video.paused) redraw();
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }
    video.src = url;
  }

  function followSlider(analysis) {
    video.hidden = true;
    const scrub = $("scrub");
    scrub.max = String(analysis.doc.video.duration_s);
    $("scrub-label").hidden = false;
    scrub.addEventListener("input", () => draw(analysis, Number(scrub.value)));
    draw(analysis, 0);
  }

  async function main() {
    const analysisId = location.pathname.split("/").filter(Boolean).pop();
    const token = viewerToken(analysisId);
    if (!token) {
      fail("Open this page through a viewer link from the app: this address alone grants nothing.");
      return;
    }
    const session = await getJson(new URL(`../api/v1/viewer/${analysisId}/session`, location.href), token);
    const doc = await getJson(session.document_url, token);
    const frameS = 1 / (doc.video.source_fps || 30);
    const analysis = {
      doc,
      frameS,
      skeleton: decodeTimeline(doc.skeleton),
      ghost: doc.ghost ? decodeTimeline(doc.ghost) : null,
      // Holds the climber's moves used are drawn thicker: the route actually climbed.
      route: new Set(doc.moves.flatMap((move) => [move.from_hold, move.to_hold]).filter(Boolean)),
      shownAdvice: null,
    };
    $("stage").style.aspectRatio = `${doc.video.frame_width} / ${doc.video.frame_height}`;
    showLegend(doc);
    new ResizeObserver(() => draw(analysis, video.hidden ? Number($("scrub").value) : video.currentTime)).observe(canvas);
    if (session.video_url) {
      $("status").textContent = doc.ghost_verdict ? doc.ghost_verdict.message : "";
      followVideo(analysis, session.video_url);
    } else {
      $("status").textContent = `${session.video_note}. The analysis is drawn on a blank frame.`;
      followSlider(analysis);
    }
    document.body.dataset.state = "ready";
  }

  main().catch((error) => fail(error.message || String(error)));
})();

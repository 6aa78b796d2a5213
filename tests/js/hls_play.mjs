// Plays a Kinesis Video HLS session URL with hls.js in headless Chromium (puppeteer-core drives
// the Chromium given; nothing is downloaded) and reports what the player did, as one line of
// JSON: {supported, currentTime, advanced, colours, errors}.
//
//   node hls_play.mjs <chromium> <master playlist URL> <screenshot.png> [seconds to play]
//
// A tiny local HTTP server serves the page and hls.min.js (the page's origin differs from
// Spate's, as a real web player's would: the playlists must allow it, CORS). The page plays
// the stream muted; once currentTime has passed `seconds`, it checks that time still advances
// over one more second, draws the frame on a canvas and counts its distinct colours, and
// the screenshot is saved.

import { readFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import puppeteer from "puppeteer-core";

const [chromium, url, screenshot, secondsArg] = process.argv.slice(2);
if (!chromium || !url || !screenshot) {
  console.error("usage: node hls_play.mjs <chromium> <url> <screenshot.png> [seconds]");
  process.exit(2);
}
const seconds = Number(secondsArg ?? "3");
const here = path.dirname(fileURLToPath(import.meta.url));
const hlsJs = await readFile(path.join(here, "node_modules/hls.js/dist/hls.min.js"));
const page = `<!doctype html><html><body>
<video id="video" muted playsinline width="640" height="360"></video>
<canvas id="canvas" width="160" height="90"></canvas>
<script src="/hls.min.js"></script></body></html>`;

const server = http.createServer((request, response) => {
  if (request.url === "/hls.min.js") {
    response.writeHead(200, { "content-type": "text/javascript" });
    response.end(hlsJs);
  } else {
    response.writeHead(200, { "content-type": "text/html" });
    response.end(page);
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}/`;

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  args: [
    "--no-sandbox",
    "--autoplay-policy=no-user-gesture-required",
    "--use-gl=swiftshader",
    "--disable-dev-shm-usage",
  ],
});
let result;
try {
  const tab = await browser.newPage();
  await tab.goto(origin);
  result = await tab.evaluate(
    async (source, seconds) => {
      const errors = [];
      const video = document.getElementById("video");
      const supported = MediaSource.isTypeSupported('video/mp4; codecs="avc1.4d401e,mp4a.40.2"');
      if (!supported) {
        return { supported, currentTime: 0, advanced: false, colours: 0, errors };
      }
      const hls = new Hls({ enableWorker: false });
      hls.on(Hls.Events.ERROR, (_, data) => {
        if (data.fatal) errors.push(`${data.type}: ${data.details}`);
      });
      hls.loadSource(source);
      hls.attachMedia(video);
      hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch((e) => errors.push(String(e))));
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const deadline = Date.now() + 60_000;
      while (video.currentTime < seconds && Date.now() < deadline && errors.length === 0) {
        await sleep(100);
      }
      const before = video.currentTime;
      await sleep(1000);
      const after = video.currentTime;
      const canvas = document.getElementById("canvas");
      const context = canvas.getContext("2d");
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
      const colours = new Set();
      for (let i = 0; i < pixels.length; i += 4) {
        colours.add((pixels[i] >> 3) * 1024 + (pixels[i + 1] >> 3) * 32 + (pixels[i + 2] >> 3));
      }
      hls.stopLoad();
      return { supported, currentTime: after, advanced: after > before, colours: colours.size, errors };
    },
    url,
    seconds,
  );
  await tab.screenshot({ path: screenshot });
} finally {
  await browser.close();
  server.close();
}
console.log(JSON.stringify(result));

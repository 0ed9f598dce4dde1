// The run report, opened in a real browser: headless Chromium driven over
// its DevTools protocol (through a pipe: no port, no dependency, any Node
// from 16 on). Run by .ci/browser-report, which builds the demo, runs it and
// passes the page here:
//
//   node .ci/browser-report.mjs --chromium /usr/bin/chromium \
//        --page out/report.html --variants sync,threads,async \
//        [--markup '<script>...'] [--screenshot report.png]
//
// Prints one PASS or FAIL line per check and exits 1 if any failed.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const TIMEOUT_MS = 60_000;

function flags(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith("--") || argv[i + 1] === undefined) {
      throw new Error(`expected --name value pairs, got ${argv[i]}`);
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const needed of ["chromium", "page", "variants"]) {
    if (!out[needed]) {
      throw new Error(`--${needed} is required`);
    }
  }
  return out;
}

/// Chromium with its DevTools protocol on fds 3 (to it) and 4 (from it):
/// JSON messages, each ended by a NUL byte.
class Browser {
  constructor(executable, profile) {
    this.child = spawn(
      executable,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        "--remote-debugging-pipe",
        "about:blank",
      ],
      { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
    );
    this.stderr = "";
    this.child.stdio[2].on("data", (d) => {
      this.stderr += d;
    });
    this.next = 1;
    this.pending = new Map();
    this.listeners = [];
    let buffer = Buffer.alloc(0);
    this.child.stdio[4].on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      let end;
      while ((end = buffer.indexOf(0)) !== -1) {
        const message = JSON.parse(buffer.subarray(0, end).toString("utf8"));
        buffer = buffer.subarray(end + 1);
        this.dispatch(message);
      }
    });
    this.exited = new Promise((resolveExit) => this.child.on("exit", resolveExit));
  }

  dispatch(message) {
    if (message.id !== undefined) {
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (!waiting) {
        return;
      }
      if (message.error) {
        waiting.reject(new Error(`${waiting.method}: ${message.error.message}`));
      } else {
        waiting.resolve(message.result);
      }
      return;
    }
    for (const listener of this.listeners) {
      listener(message);
    }
  }

  send(method, params = {}, sessionId = undefined) {
    const id = this.next++;
    const message = { id, method, params };
    if (sessionId) {
      message.sessionId = sessionId;
    }
    return new Promise((resolveSend, reject) => {
      this.pending.set(id, { resolve: resolveSend, reject, method });
      this.child.stdio[3].write(JSON.stringify(message) + "\0");
    });
  }

  on(listener) {
    this.listeners.push(listener);
  }

  async close() {
    try {
      await Promise.race([this.send("Browser.close"), sleep(2000)]);
    } catch {
      // Already gone.
    }
    if (this.child.exitCode === null) {
      this.child.kill("SIGKILL");
    }
    await this.exited;
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

const results = [];
function check(name, ok, detail = "") {
  results.push(ok);
  console.log(`${ok ? "PASS" : "FAIL"}: ${name}${detail ? ` (${detail})` : ""}`);
}

async function main() {
  const args = flags(process.argv.slice(2));
  const variants = args.variants.split(",").filter((v) => v);
  const pageUrl = pathToFileURL(resolve(args.page)).href;
  const profile = mkdtempSync(join(tmpdir(), "evloop-browser-"));
  const browser = new Browser(args.chromium, profile);
  const watchdog = setTimeout(() => {
    console.log(`FAIL: the browser check finished within ${TIMEOUT_MS / 1000} s`);
    browser.child.kill("SIGKILL");
    process.exit(1);
  }, TIMEOUT_MS);

  try {
    const { targetId } = await browser.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await browser.send("Target.attachToTarget", { targetId, flatten: true });
    const page = (method, params) => browser.send(method, params, sessionId);

    // Everything the page says or asks for, from before it loads.
    const errors = [];
    const warnings = [];
    const requests = [];
    let loaded;
    const load = new Promise((r) => {
      loaded = r;
    });
    browser.on((m) => {
      if (m.sessionId !== sessionId) {
        return;
      }
      const p = m.params;
      switch (m.method) {
        case "Runtime.consoleAPICalled": {
          const text = p.args.map((a) => a.value ?? a.description ?? "").join(" ");
          (p.type === "error" || p.type === "assert" ? errors : warnings).push(`console.${p.type}: ${text}`);
          break;
        }
        case "Runtime.exceptionThrown":
          errors.push(`exception: ${p.exceptionDetails.exception?.description ?? p.exceptionDetails.text}`);
          break;
        case "Log.entryAdded":
          (p.entry.level === "error" ? errors : warnings).push(`${p.entry.source}: ${p.entry.text}`);
          break;
        case "Network.requestWillBeSent":
          requests.push(p.request.url);
          break;
        case "Page.loadEventFired":
          loaded();
          break;
      }
    });
    await page("Page.enable");
    await page("Runtime.enable");
    await page("Log.enable");
    await page("Network.enable");
    await page("Emulation.setDeviceMetricsOverride", {
      width: 1280,
      height: 900,
      deviceScaleFactor: 1,
      mobile: false,
    });
    const navigation = await page("Page.navigate", { url: pageUrl });
    await load;
    // Let late console messages and requests arrive.
    await sleep(300);

    const evaluate = async (expression) => {
      const r = await page("Runtime.evaluate", { expression, returnByValue: true, awaitPromise: true });
      if (r.exceptionDetails) {
        throw new Error(`${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
      }
      return r.result.value;
    };

    const title = await evaluate("document.title");
    check("the page loads", !navigation.errorText && title.startsWith("evloop run report"), navigation.errorText || title);
    check("no console error", errors.length === 0, errors.join(" | ") || `${warnings.length} warning(s)`);
    for (const w of warnings) {
      console.log(`  note: ${w}`);
    }
    const foreign = requests.filter((u) => u !== pageUrl && !u.startsWith("data:"));
    check(
      "no request but the page itself",
      foreign.length === 0 && requests.includes(pageUrl),
      foreign.length ? foreign.join(", ") : `${requests.length} request(s): the page${requests.length > 1 ? " and data: URLs" : ""}`,
    );

    const rows = await evaluate(
      `Array.from(document.querySelectorAll("#comparison table tbody tr")).map((r) => r.dataset.variant)`,
    );
    check(
      "the comparison table has one row per variant",
      JSON.stringify(rows) === JSON.stringify(variants),
      rows.join(", "),
    );

    const svgs = await evaluate(`Array.from(document.querySelectorAll("figure.timeline svg, figure.bars svg")).map((s) => {
        const r = s.getBoundingClientRect();
        return { w: r.width, h: r.height, title: s.querySelector("title")?.textContent ?? "" };
      })`);
    const timelines = svgs.filter((s) => !s.title.startsWith("Each variant"));
    const expected = variants.length + (variants.length > 1 ? 1 : 0);
    const flat = svgs.filter((s) => !(s.w > 0 && s.h > 0));
    check(
      "every timeline SVG renders with a positive size",
      timelines.length === expected && flat.length === 0,
      `${timelines.length} timelines (expected ${expected}) and the bar chart; ` +
        svgs.map((s) => `${Math.round(s.w)}x${Math.round(s.h)}`).join(" "),
    );

    const hover = await evaluate(`(() => {
        const rows = Array.from(document.querySelectorAll("figure.timeline g.task-row"));
        const labelled = rows.filter((r) => {
          const t = r.querySelector("g.label > title")?.textContent ?? "";
          return /polls \\d+/.test(t) && /busy/.test(t) && /idle/.test(t) && /wakes \\d+/.test(t)
            && (/spawned at /.test(t) || /tasks drawn over each other/.test(t));
        });
        const bars = Array.from(document.querySelectorAll("figure.timeline g.task-row rect"));
        const tipped = bars.filter((b) => (b.querySelector("title")?.textContent ?? "").length > 0);
        const tableRows = document.querySelectorAll("table.tasks tbody tr[data-task], table.tasks tbody tr[data-tasks]").length;
        return { rows: rows.length, labelled: labelled.length, bars: bars.length, tipped: tipped.length, tableRows };
      })()`);
    check(
      "hover details on every task row and bar",
      hover.rows > 0 && hover.labelled === hover.rows && hover.bars > 0 && hover.tipped === hover.bars && hover.tableRows > 0,
      `${hover.labelled}/${hover.rows} task rows with name, place, polls, busy, idle, wakes; ` +
        `${hover.tipped}/${hover.bars} bars with times; ${hover.tableRows} table rows with data-task`,
    );

    // Sorting: a real click on a header, twice; the rows must come back
    // ordered by that column each time, and in a new order at least once.
    const sortable = await evaluate(`(() => {
        const tables = Array.from(document.querySelectorAll("table.tasks"));
        for (const [t, table] of tables.entries()) {
          const heads = Array.from(table.tHead.rows[0].cells);
          const column = heads.findIndex((h) => h.textContent.trim().startsWith("busy"));
          const keys = Array.from(table.tBodies[0].rows).map((r) => r.cells[column].dataset.sort);
          if (new Set(keys).size > 2) {
            table.id = "sort-under-test";
            heads[column].querySelector("button").scrollIntoView({ block: "center" });
            return { table: t, column };
          }
        }
        return null;
      })()`);
    if (sortable === null) {
      check("sorting a statistics table by a column reorders it", false, "no tasks table with 3 distinct busy times");
    } else {
      const order = () =>
        evaluate(`Array.from(document.querySelectorAll("#sort-under-test tbody tr")).map((r) =>
            [r.dataset.task ?? r.dataset.tasks, Number(r.cells[${sortable.column}].dataset.sort)])`);
      const click = async () => {
        const at = await evaluate(`(() => {
            const b = document.querySelectorAll("#sort-under-test thead th")[${sortable.column}].querySelector("button");
            const r = b.getBoundingClientRect();
            return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
          })()`);
        for (const type of ["mouseMoved", "mousePressed", "mouseReleased"]) {
          await page("Input.dispatchMouseEvent", { type, x: at.x, y: at.y, button: "left", clickCount: 1 });
        }
        await sleep(50);
      };
      const sorted = (rows, sign) => rows.every((r, i) => i === 0 || sign * (r[1] - rows[i - 1][1]) >= 0);
      const before = await order();
      await click();
      const first = await order();
      await click();
      const second = await order();
      const ids = (rows) => rows.map((r) => r[0]).join(",");
      check(
        "sorting a statistics table by a column reorders it",
        sorted(first, -1) && sorted(second, 1) && (ids(first) !== ids(before) || ids(second) !== ids(before)),
        `table ${sortable.table + 1}, busy: largest first ${sorted(first, -1)}, smallest first ${sorted(second, 1)}, ` +
          `${before.length} rows, order changed ${ids(first) !== ids(before) || ids(second) !== ids(before)}`,
      );
    }

    const markup = await evaluate(`(() => ({
        scripts: document.scripts.length,
        handlers: Array.from(document.querySelectorAll("*")).filter((e) =>
          Array.from(e.attributes).some((a) => a.name.startsWith("on"))).length,
        text: document.body.textContent,
      }))()`);
    if (args.markup) {
      check(
        "a URL with markup shows as text",
        markup.text.includes(args.markup) && markup.scripts === 1 && markup.handlers === 0,
        `found as text: ${markup.text.includes(args.markup)}; script elements: ${markup.scripts}; elements with on* handlers: ${markup.handlers}`,
      );
    } else {
      check("nothing injected", markup.scripts === 1 && markup.handlers === 0, `script elements: ${markup.scripts}`);
    }

    if (args.screenshot) {
      // The top of the page: header, table, bars and the stacked timeline,
      // with the pointer in the margin (not hovering over a table row).
      await page("Input.dispatchMouseEvent", { type: "mouseMoved", x: 1, y: 1 });
      const height = await evaluate(`(() => {
          window.scrollTo(0, 0);
          const end = document.querySelector("#timelines") ?? document.querySelector("section.variant figure");
          const bottom = end ? end.getBoundingClientRect().bottom + window.scrollY + 12 : 1400;
          return Math.ceil(Math.min(Math.max(bottom, 600), 2400));
        })()`);
      const shot = await page("Page.captureScreenshot", {
        format: "png",
        captureBeyondViewport: true,
        clip: { x: 0, y: 0, width: 1280, height, scale: 1 },
      });
      const png = Buffer.from(shot.data, "base64");
      writeFileSync(args.screenshot, png);
      check("screenshot taken", png.length > 10_000, `${args.screenshot}: 1280x${height}, ${Math.round(png.length / 1024)} KiB`);
    }
  } catch (e) {
    check("the browser check ran to the end", false, e.message);
    if (browser.stderr) {
      console.log(browser.stderr.split("\n").slice(-10).join("\n"));
    }
  } finally {
    clearTimeout(watchdog);
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
  const failed = results.filter((ok) => !ok).length;
  console.log(failed === 0 ? `all ${results.length} checks passed` : `${failed} of ${results.length} checks failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((e) => {
  console.log(`FAIL: the browser check could not start (${e.message})`);
  process.exit(1);
});

// Keeps a page live with at most one request per interval: each tick runs one job, either
// the next queued one (a detail that changed) or the page's default job (its cheap summary).
// A tick starts only after the previous one finished, and nothing runs while the tab is hidden.

export class Poller {
  constructor(intervalMs, defaultJob, { onError } = {}) {
    this.intervalMs = intervalMs;
    this.defaultJob = defaultJob;
    this.onError = onError ?? (() => {});
    this.queue = new Map();
    this.timer = null;
    this.running = false;
  }

  // Run `job` at a coming tick (once, however often it is asked for before then).
  soon(name, job) {
    this.queue.set(name, job);
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop() {
    this.running = false;
    window.clearTimeout(this.timer);
    this.timer = null;
  }

  schedule(delay) {
    if (this.running) this.timer = window.setTimeout(() => this.tick(), delay);
  }

  async tick() {
    const started = performance.now();
    if (!document.hidden) {
      const [name, job] = this.queue.entries().next().value ?? [null, this.defaultJob];
      if (name !== null) this.queue.delete(name);
      try {
        await job();
      } catch (error) {
        this.onError(error);
      }
    }
    this.schedule(Math.max(0, this.intervalMs - (performance.now() - started)));
  }
}

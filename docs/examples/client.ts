/**
 * f5-tts-vi on RunPod serverless, from TypeScript (Node 18+ or a browser: fetch only).
 *
 *   const tts = new RunPodTTS({ endpointId: "abc123", apiKey: process.env.RUNPOD_API_KEY!,
 *                               serviceApiKey: process.env.TTS_API_KEY });
 *   const { audio, output } = await tts.synthesize({ text: "Xin chào Việt Nam", ref_name: "3_Nu" },
 *                                                  (s) => console.log(s.status, s.output?.percent));
 *
 * The flow (docs/runpod.md): POST /run -> poll /status -> audio from audio_base64, else audio_url
 * (presigned bucket link), else download_url (the worker) -> POST confirmation_url so the worker
 * can stop. Old clients that never confirm still work: the worker gives up waiting after 60 s.
 */

export interface TTSInput {
  text: string;
  ref_name?: string; // default "main.wav"
  speed?: number; // 0.5 - 2.0, default 0.9
  job_id?: string; // repeated ids are never synthesized twice
  ref_text?: string;
  seed?: number;
  nfe_step?: number;
  cfg_strength?: number;
}

export interface TTSOutput {
  filename: string;
  download_url: string;
  confirmation_url: string;
  sample_used: string;
  processing_time_seconds: number;
  job_id: string;
  audio_base64?: string;
  audio_url?: string;
  audio_bytes?: number;
  duration_seconds?: number;
  sample_rate?: number;
  confirmation_timeout_seconds?: number;
  duplicate?: boolean;
}

export interface ProgressReport {
  job_id: string;
  status: string;
  percent?: number;
  eta_seconds?: number;
  message?: string;
}

export type RunPodState = "IN_QUEUE" | "IN_PROGRESS" | "COMPLETED" | "FAILED" | "CANCELLED" | "TIMED_OUT";

export interface RunPodStatus {
  id: string;
  status: RunPodState;
  output?: TTSOutput | ProgressReport; // the progress report while IN_PROGRESS
  error?: string; // "code: message", e.g. "voice_not_found: unknown voice 'x'"
}

export class TTSJobError extends Error {
  constructor(
    readonly jobId: string,
    readonly status: string,
    readonly detail?: string,
  ) {
    super(`job ${jobId} ended ${status}: ${detail ?? ""}`);
  }
}

export interface RunPodTTSOptions {
  endpointId?: string;
  baseUrl?: string; // instead of endpointId, e.g. the local test server http://127.0.0.1:8010
  apiKey?: string; // RunPod key
  serviceApiKey?: string; // the worker container's API_KEY, for download_url / confirmation_url
  pollMs?: number; // default 1000
  timeoutMs?: number; // default 15 min
}

const FINISHED: ReadonlySet<string> = new Set(["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"]);

export class RunPodTTS {
  private readonly baseUrl: string;
  private readonly pollMs: number;
  private readonly timeoutMs: number;
  private statusMethod: "GET" | "POST" = "GET";

  constructor(private readonly options: RunPodTTSOptions) {
    if (!options.baseUrl && !options.endpointId) throw new Error("endpointId or baseUrl is required");
    this.baseUrl = (options.baseUrl ?? `https://api.runpod.ai/v2/${options.endpointId}`).replace(/\/$/, "");
    this.pollMs = options.pollMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? 15 * 60 * 1000;
  }

  private headers(key?: string): Record<string, string> {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (key) headers.Authorization = `Bearer ${key}`;
    return headers;
  }

  private async json<T>(response: Response): Promise<T> {
    if (!response.ok) {
      const text = await response.text();
      throw new Error(`HTTP ${response.status}: ${text.slice(0, 500)}`);
    }
    return (await response.json()) as T;
  }

  async run(input: TTSInput, webhook?: string): Promise<string> {
    const response = await fetch(`${this.baseUrl}/run`, {
      method: "POST",
      headers: this.headers(this.options.apiKey),
      body: JSON.stringify(webhook ? { input, webhook } : { input }),
    });
    return (await this.json<{ id: string }>(response)).id;
  }

  async status(jobId: string): Promise<RunPodStatus> {
    const call = (method: "GET" | "POST") =>
      fetch(`${this.baseUrl}/status/${jobId}`, { method, headers: this.headers(this.options.apiKey) });
    let response = await call(this.statusMethod);
    if (response.status === 405) {
      // The SDK's local test server only answers POST (and runs the job inside that call).
      this.statusMethod = this.statusMethod === "GET" ? "POST" : "GET";
      response = await call(this.statusMethod);
    }
    return this.json<RunPodStatus>(response);
  }

  async wait(jobId: string, onStatus?: (status: RunPodStatus) => void): Promise<TTSOutput> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const status = await this.status(jobId);
      onStatus?.(status);
      if (FINISHED.has(status.status)) {
        if (status.status !== "COMPLETED") throw new TTSJobError(jobId, status.status, status.error);
        return status.output as TTSOutput;
      }
      if (Date.now() > deadline) throw new TTSJobError(jobId, "TIMEOUT", `not finished in ${this.timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, this.pollMs));
    }
  }

  async fetchAudio(output: TTSOutput): Promise<Uint8Array> {
    if (output.audio_base64) return base64ToBytes(output.audio_base64);
    // A presigned link carries its own signature: send no Authorization header with it.
    const url = output.audio_url ?? output.download_url;
    const headers = output.audio_url ? undefined : this.headers(this.options.serviceApiKey);
    const response = await fetch(url, { headers });
    if (!response.ok) throw new Error(`download failed: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  }

  async confirm(output: TTSOutput): Promise<void> {
    if (!output.confirmation_url) return;
    const response = await fetch(output.confirmation_url, {
      method: "POST",
      headers: this.headers(this.options.serviceApiKey),
    });
    if (!response.ok) console.warn(`confirmation failed: HTTP ${response.status}`); // the worker stops after 60 s anyway
  }

  async synthesize(
    input: TTSInput,
    onStatus?: (status: RunPodStatus) => void,
  ): Promise<{ audio: Uint8Array; output: TTSOutput }> {
    const jobId = await this.run(input);
    const output = await this.wait(jobId, onStatus);
    const audio = await this.fetchAudio(output);
    await this.confirm(output);
    return { audio, output };
  }
}

function base64ToBytes(data: string): Uint8Array {
  if (typeof Buffer !== "undefined") return new Uint8Array(Buffer.from(data, "base64"));
  const binary = atob(data);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * The completion webhook (NEXTJS_WEBHOOK_URL), e.g. a Next.js route handler. With
 * WORKER_WEBHOOK_SECRET set, check X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the raw body>.
 *
 *   export async function POST(request: Request) {
 *     const raw = await request.text();
 *     if (!(await verifyWebhook(raw, request.headers.get("X-Webhook-Signature"), process.env.WEBHOOK_SECRET!)))
 *       return new Response("bad signature", { status: 401 });
 *     const event = JSON.parse(raw) as { event: string; id: string; job_id: string; output?: TTSOutput; error?: string };
 *     // event.event is "tts.completed" or "tts.failed"; download event.output.download_url, then confirm.
 *     return new Response(null, { status: 204 });
 *   }
 */
export async function verifyWebhook(raw: string, signature: string | null, secret: string): Promise<boolean> {
  if (!signature?.startsWith("sha256=")) return false;
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(raw)));
  const hex = Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
  const given = signature.slice("sha256=".length);
  if (given.length !== hex.length) return false;
  let diff = 0;
  for (let i = 0; i < hex.length; i++) diff |= hex.charCodeAt(i) ^ given.charCodeAt(i);
  return diff === 0;
}

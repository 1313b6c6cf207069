"""Service settings, read once from the environment (and an optional ``.env``).

Every knob of the service is here; docs/service.md has the table. Names are
the environment variables (case-insensitive); a few keep the old system's name
as an alias (``REF_VOICE_DIR``, ``OUTPUT_AUDIO_DIR``, ``NEXTJS_WEBHOOK_URL``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_CHECKPOINT = "hf://hynt/F5-TTS-Vietnamese-ViVoice/model_last.pt"
DEFAULT_VOCAB = "hf://hynt/F5-TTS-Vietnamese-ViVoice/config.json"
DEFAULT_VOCODER = "charactr/vocos-mel-24khz"
DEFAULT_ARCH = "F5TTS_Base"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        populate_by_name=True,
    )

    # --- server ---
    host: str = "0.0.0.0"
    port: int = Field(8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: Literal["json", "text"] = "json"
    public_base_url: str | None = Field(
        None, description="absolute base URL of this service, for download links in webhooks and responses"
    )
    graceful_shutdown_seconds: float = Field(
        30.0, ge=0, description="how long SIGTERM waits for the running batch and open requests"
    )

    # --- model ---
    demo: bool = Field(
        False,
        validation_alias=AliasChoices("demo", "F5TTS_DEMO"),
        description="serve the tiny random demo model (tests, development) instead of the real one",
    )
    model_checkpoint: str = DEFAULT_CHECKPOINT
    model_vocab: str = DEFAULT_VOCAB
    model_vocoder: str = DEFAULT_VOCODER
    model_arch: str = DEFAULT_ARCH
    device: str | None = Field(None, description="cuda, cuda:1, mps, cpu; empty = auto")
    dtype: Literal["float16", "bfloat16", "float32"] | None = None
    warmup: bool = True
    exit_on_load_failure: bool = True

    # --- folders ---
    voices_dir: Path = Field(Path("voices"), validation_alias=AliasChoices("voices_dir", "ref_voice_dir"))
    output_dir: Path = Field(Path("outputs"), validation_alias=AliasChoices("output_dir", "output_audio_dir"))
    data_dir: Path = Path("data")

    # --- synthesis defaults and request limits ---
    default_voice: str = "main"
    default_speed: float = Field(0.9, ge=0.5, le=2.0)
    default_nfe_step: int = Field(32, ge=1, le=128)
    default_cfg_strength: float = Field(2.0, ge=0.0, le=10.0)
    max_text_length: int = Field(50_000, ge=1, description="characters per request")
    max_body_bytes: int = Field(1_048_576, ge=1024)

    # --- queue and batching ---
    max_queue_size: int = Field(1000, ge=1, description="unfinished jobs accepted; beyond it 429")
    max_batch_items: int = Field(16, ge=1, description="chunks per forward pass; 1 turns batching off")
    max_batch_frames: int = Field(40_000, ge=1, description="sum of mel frames (reference included) per batch")
    batch_wait_seconds: float = Field(
        0.02, ge=0.0, le=5.0, description="after an idle period, wait this long for companions"
    )
    job_timeout_seconds: float = Field(3600.0, gt=0)
    release_memory_when_idle: bool = True
    progress_persist_seconds: float = Field(2.0, ge=0.0)

    # --- text front-end, transcription and the voice library (docs/voices.md, docs/text-frontend.md) ---
    text_normalization: bool = Field(
        True, description="normalize request text (Vinorm + rules + lexicon) unless a request sends normalize=false"
    )
    lexicon_path: Path | None = Field(None, description="pronunciation lexicon TSV; default the packaged one")
    vinorm_timeout: float = Field(30.0, gt=0, description="seconds per Vinorm engine run")
    vinorm_dir: Path | None = Field(None, description="the vinorm package folder; default the installed one")
    auto_transcribe: bool = Field(True, description="transcribe voices without NAME.txt with PhoWhisper")
    transcriber_model: str = Field("vinai/PhoWhisper-small", description="hub id or local folder")
    transcriber_device: str | None = Field(None, description="default: the model's device")
    transcriber_factory: str | None = Field(
        None, description="'module:attr', a callable(settings) returning an object with transcribe(wav, sample_rate)"
    )
    voice_max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="voice clip file size limit")
    voice_min_seconds: float = Field(1.0, gt=0)
    voice_max_seconds: float = Field(30.0, gt=0, le=300)
    allow_delete_default_voice: bool = False
    inline_reference_ttl_seconds: float = Field(
        86_400.0, gt=0, description="inline reference clips (ref_audio_base64) are kept this long under DATA_DIR"
    )

    # --- streaming (/tts/stream, /v1/audio/speech, /ws/tts) ---
    stream_first_chunk_bytes: int = Field(
        64,
        ge=0,
        le=4096,
        description="a streamed job's first chunk holds at most this many UTF-8 bytes of text, so the first "
        "audio comes fast (~3 s of speech); 0 = the planner's chunks unchanged",
    )
    stream_progress_seconds: float = Field(
        0.5, gt=0, le=60, description="WebSocket: at most one progress event per this many seconds while waiting"
    )
    ws_max_queued_requests: int = Field(
        16, ge=1, le=1000, description="WebSocket: requests a connection may have waiting behind the current one"
    )

    # --- security ---
    api_key: SecretStr | None = None

    # --- outputs and retention ---
    confirmed_retention_seconds: float = Field(
        600.0, ge=0, description="keep audio this long after a confirmed download"
    )
    output_ttl_seconds: float = Field(86_400.0, gt=0)
    output_max_bytes: int = Field(10 * 1024**3, ge=0, description="disk budget for OUTPUT_DIR; 0 = unlimited")
    job_record_ttl_seconds: float = Field(7 * 86_400.0, gt=0, description="finished job records kept this long")
    retention_sweep_seconds: float = Field(60.0, gt=0)

    # --- webhooks ---
    webhook_url: str | None = Field(None, validation_alias=AliasChoices("webhook_url", "nextjs_webhook_url"))
    webhook_secret: SecretStr | None = None
    webhook_allow_per_request: bool = False
    webhook_max_attempts: int = Field(5, ge=1, le=20)
    webhook_backoff_seconds: float = Field(1.0, ge=0.0)
    webhook_timeout_seconds: float = Field(10.0, gt=0)

    @field_validator(
        "device",
        "webhook_url",
        "public_base_url",
        "transcriber_device",
        "transcriber_factory",
        "lexicon_path",
        "vinorm_dir",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("api_key", "webhook_secret", mode="before")
    @classmethod
    def _empty_secret_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value else value

    @model_validator(mode="after")
    def _resolve_paths(self) -> Settings:
        # Absolute paths: the service compares resolved paths to refuse
        # anything outside these folders.
        self.voices_dir = self.voices_dir.expanduser().resolve()
        self.output_dir = self.output_dir.expanduser().resolve()
        self.data_dir = self.data_dir.expanduser().resolve()
        return self

    @property
    def database_path(self) -> Path:
        return self.data_dir / "jobs.sqlite3"

    @property
    def model_name(self) -> str:
        return "F5-TTS Vietnamese (demo model)" if self.demo else "F5-TTS Vietnamese"


@lru_cache
def get_settings() -> Settings:
    return Settings()

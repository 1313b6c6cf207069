"""f5-tts-vi: the HTTP service around the f5_tts engine."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("f5-tts-vi")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"

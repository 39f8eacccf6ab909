"""One exception family for everything a user can cause; each message names the fix."""


class AskKhorasanError(Exception):
    """Base class: the message is written for the user and says what to do."""


class IndexMissingError(AskKhorasanError):
    pass


class IndexIncompatibleError(AskKhorasanError):
    """The index was built by another model, format or settings."""


class IndexCorruptError(AskKhorasanError):
    pass


class SourceError(AskKhorasanError):
    """A source file cannot be read; the build reports it and goes on."""


class QuestionError(AskKhorasanError):
    """The question cannot be asked as given (empty, nothing searchable)."""


class ModelError(AskKhorasanError):
    """The bundled embedding model is missing or not the expected one."""


class CorpusError(AskKhorasanError):
    """The corpus folder is missing or holds nothing to index."""


class IndexWriteError(AskKhorasanError, OSError):
    """The index folder cannot be written (read-only, full, not ours). Still an OSError to callers
    that catch those."""

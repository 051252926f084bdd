"""Encryption at rest: encrypted model fields, an encrypting file storage and a keyed hash.

Free text about incidents (what happened, where, who did it, notes, messages, reasons,
outcomes, event payloads) and evidence files are stored as Fernet tokens (AES-128-CBC with
HMAC-SHA256). The keys come from the environment, never from the database:

- ``FIELD_ENCRYPTION_KEYS``: comma-separated Fernet keys. The first encrypts; all decrypt, so a
  new key can be put in front, ``manage.py rotate_encryption_keys`` re-encrypts everything with
  it, and only then is the old key removed.
- ``IDENTIFIER_HASH_KEY``: the HMAC key for perpetrator identifiers. The same perpetrator must be
  recognised across incidents, which a randomised cipher cannot do; an HMAC can, and without
  the key a database dump does not reveal (or let anyone guess-and-check) the identifier.
- Backup codes of the second factor are stored as an HMAC under ``SECRET_KEY`` (with
  ``SECRET_KEY_FALLBACKS``, like sessions): only checked, never read back.
- The facts the desk queue filters on (incident types, risk flags) are encrypted like the rest
  and have one keyed token per value besides (``fact_token``), under a key derived from
  ``IDENTIFIER_HASH_KEY``: equal codes give equal tokens, so the queue can filter, but how
  often each token occurs still shows (see docs/architecture.md, "Facts at rest").

An empty string stays empty: a blank optional field says nothing about an incident, and
``exclude(outcome="")`` keeps working. Anything else can only be matched after decrypting.
"""

import base64
import hashlib
import hmac
import io
import json
import os
import re
import struct
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import BinaryIO

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django import forms
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models.lookups import Exact
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property


class EncryptionKeyError(Exception):
    """Stored data could not be decrypted with any configured key."""


@lru_cache(maxsize=8)
def _multi_fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    """The configured keys, current key first (read on use, so tests can override them)."""
    keys = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if not keys:
        raise EncryptionKeyError("FIELD_ENCRYPTION_KEYS is empty.")
    return _multi_fernet(keys)


def encrypt_bytes(data: bytes) -> bytes:
    return fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return fernet().decrypt(token)
    except InvalidToken as error:
        raise EncryptionKeyError("No configured key decrypts this value.") from error


def rotate_token(token: bytes) -> bytes:
    """The same plaintext, encrypted with the current key (a new token even if it was current)."""
    try:
        return fernet().rotate(token)
    except InvalidToken as error:
        raise EncryptionKeyError("No configured key decrypts this value.") from error


def encrypt_text(value: str) -> str:
    return encrypt_bytes(value.encode()).decode("ascii")


def decrypt_text(token: str) -> str:
    return decrypt_bytes(token.encode("ascii")).decode()


def identifier_hash(normalised: str) -> str:
    """HMAC-SHA256 (hex) of a normalised perpetrator identifier; equal inputs, equal hashes."""
    key = settings.IDENTIFIER_HASH_KEY.encode()
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


# The purpose label of the key that fact tokens are made with: a key of its own, derived from
# IDENTIFIER_HASH_KEY, so a fact token never equals an identifier hash of the same text.
FACT_TOKEN_PURPOSE = b"mwb.incident-fact-token.v1"
# 128 bits of HMAC-SHA256, in hex: plenty to tell a few dozen codes apart, short in a row.
FACT_TOKEN_LENGTH = 32


@lru_cache(maxsize=4)
def _fact_token_key(identifier_key: str) -> bytes:
    return hmac.new(identifier_key.encode(), FACT_TOKEN_PURPOSE, hashlib.sha256).digest()


def fact_token(kind: str, code: str) -> str:
    """The keyed token of one fact value (`kind` "type", code "threat"): equal in, equal out.

    The kind is part of the input: a code that is both a type and a risk flag
    ("threat_to_family") gets two unrelated tokens.
    """
    key = _fact_token_key(settings.IDENTIFIER_HASH_KEY)
    message = f"{kind}\x00{code}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:FACT_TOKEN_LENGTH]


def fact_tokens(kind: str, codes: Iterable[str]) -> str:
    """The stored form of the tokens of a list of codes: " t1 t2 " (sorted, each once), or ""
    for none. The spaces around each token let `contains` match one whole token."""
    tokens = sorted({fact_token(kind, code) for code in codes or ()})
    return f" {' '.join(tokens)} " if tokens else ""


def fact_token_lookup(kind: str, code: str) -> str:
    """What `<tokens field>__contains` is given to find rows holding this code."""
    return f" {fact_token(kind, code)} "


BACKUP_CODE_SALT = "portal.BackupCode.code_hash"


def backup_code_normalise(code: str) -> str:
    return "".join(code.split()).lower()


def backup_code_hash(code: str, *, secret: str | None = None) -> str:
    """HMAC-SHA256 (hex) of a backup code under SECRET_KEY (or `secret`, a fallback key)."""
    return salted_hmac(
        BACKUP_CODE_SALT, backup_code_normalise(code), secret=secret, algorithm="sha256"
    ).hexdigest()


def backup_code_hashes(code: str) -> list[str]:
    """The hash under the current key, then under each of SECRET_KEY_FALLBACKS."""
    return [
        backup_code_hash(code),
        *(backup_code_hash(code, secret=key) for key in settings.SECRET_KEY_FALLBACKS),
    ]


BROWSER_TOKEN_SALT = "portal.KeptForm.token_hash"  # noqa: S105 (a salt, not a secret)


def browser_token_hash(token: str) -> str:
    """HMAC-SHA256 (hex) under SECRET_KEY of a random value that only one browser holds."""
    return salted_hmac(BROWSER_TOKEN_SALT, token, algorithm="sha256").hexdigest()


def _browser_fernet(token: str) -> Fernet:
    key = hashlib.sha256(b"portal.KeptForm.content:" + token.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def browser_bound_encrypt(token: str, value: str) -> str:
    """`value` encrypted with a key derived from the browser's random value `token`: without
    that browser's cookie, the database and the field keys together cannot read it."""
    return _browser_fernet(token).encrypt(value.encode()).decode("ascii")


def browser_bound_decrypt(token: str, value: str) -> str:
    try:
        return _browser_fernet(token).decrypt(value.encode("ascii")).decode()
    except InvalidToken as error:
        raise EncryptionKeyError("This browser's value does not decrypt this text.") from error


class EncryptedExact(Exact):
    """`field=""` works (blank says nothing); any other value would never match a token."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError("An encrypted field can only be compared with the empty string.")
        return super().get_prep_lookup()


# Every Fernet token starts with these characters (version byte 0x80, then a timestamp whose
# high bits are zero for thousands of years); no stored plaintext code or JSON does.
FERNET_PREFIX = "gAAAAA"


def is_fernet_token(value: str) -> bool:
    return value.startswith(FERNET_PREFIX)


class EncryptedTextField(models.TextField):
    """A text column that holds a Fernet token; Python code sees the plaintext.

    `max_length`, when given, is the length of the plaintext (checked by forms and
    validation); the column itself is unbounded text, since a token is longer.

    `reads_plaintext=True` is for a column that was plain before and is converted by a batch
    command after its migration: until a row is converted, its plain value (a code, or JSON)
    still reads. Every write encrypts, so a row that is saved is converted.
    """

    def __init__(self, *args, reads_plaintext: bool = False, **kwargs):
        self.reads_plaintext = reads_plaintext
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.reads_plaintext:
            kwargs["reads_plaintext"] = True
        return name, path, args, kwargs

    def get_lookup(self, lookup_name):
        # Ciphertext cannot be searched: only emptiness can be asked about.
        if lookup_name == "exact":
            return EncryptedExact
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        if self.reads_plaintext and not is_fernet_token(value):
            return self._decode(value)
        return self._decode(decrypt_text(value))

    def get_prep_value(self, value):
        value = self._encode(value)
        if value is None or value == "":
            return value
        return encrypt_text(value)

    def _encode(self, value):
        return None if value is None else str(value)

    def _decode(self, value):
        return value


class EncryptedCharField(EncryptedTextField):
    """An encrypted one-line text: a text input in forms, `max_length` checked on plaintext."""

    def formfield(self, **kwargs):
        # models.Field.formfield gives a CharField with a one-line input, as CharField does.
        return models.Field.formfield(self, **{"max_length": self.max_length, **kwargs})


class EncryptedJSONField(EncryptedTextField):
    """JSON (a dict or list) serialised and then encrypted; not queryable by key."""

    def _encode(self, value):
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)

    def _decode(self, value):
        return json.loads(value)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        if value == "":
            return self.get_default()
        return super().from_db_value(value, expression, connection)

    def to_python(self, value):
        return value

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj))

    def formfield(self, **kwargs):
        return None


class EncryptedBooleanField(EncryptedJSONField):
    """A yes/no fact, encrypted: "no" is as unreadable as "yes" (JSON `false` is encrypted too)."""

    def get_default(self):
        return bool(super().get_default())

    def _decode(self, value):
        # bool(): a row not yet converted from SQLite's integer column reads "0" or "1".
        return bool(json.loads(value))

    def to_python(self, value):
        return bool(value)

    def formfield(self, **kwargs):
        return forms.BooleanField(required=False, label=self.verbose_name, **kwargs)


class FactTokensField(models.TextField):
    """The keyed tokens (`fact_tokens`) of the codes in the list field `source`, kept in step.

    Set from the source whenever the row is written (`pre_save`, also in `bulk_create`); the
    model adds this field to `save(update_fields=...)` when the source is in them. Filter with
    `<field>__contains=fact_token_lookup(kind, code)`.
    """

    def __init__(self, *args, source: str = "", fact_kind: str = "", **kwargs):
        self.source, self.fact_kind = source, fact_kind
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, fact_kind=self.fact_kind)
        for key, value in (("editable", False), ("blank", True), ("default", "")):
            if kwargs.get(key, value) == value:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = fact_tokens(self.fact_kind, getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


# Evidence files are encrypted in frames, so that a 200 MB video never sits in memory whole:
#   header:  ENCRYPTED_FILE_MAGIC (8 bytes) + a random file id (16 bytes)
#   frames:  a 4-byte big-endian length, then one Fernet token of
#            file id (16) + frame number (8) + "last frame" flag (1) + up to 1 MiB of plaintext
# Every frame but the last holds exactly FILE_FRAME_SIZE bytes. The authenticated file id,
# number and flag make a reordered, truncated or spliced file fail to decrypt instead of
# reading back different content. Files written before the framed format are one Fernet token
# of the whole file (at most 10 MB); they are still read, and rotated in that format.
ENCRYPTED_FILE_MAGIC = b"MWB-ENC1"
FILE_FRAME_SIZE = 1024 * 1024
_FILE_HEADER_SIZE = len(ENCRYPTED_FILE_MAGIC) + 16
_FRAME_LENGTH = struct.Struct(">I")
_FRAME_HEADER = struct.Struct(">16sQ?")
# A Fernet token of one frame is about 4/3 of FILE_FRAME_SIZE; anything larger is damage.
_MAX_TOKEN_SIZE = 2 * FILE_FRAME_SIZE


def encrypt_stream(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The framed encrypted form of the plaintext `chunks`, piece by piece (bounded memory)."""
    file_id = os.urandom(16)
    keys = fernet()
    yield ENCRYPTED_FILE_MAGIC + file_id
    buffer = bytearray()
    number = 0

    def frame(data: bytes, last: bool) -> bytes:
        token = keys.encrypt(_FRAME_HEADER.pack(file_id, number, last) + data)
        return _FRAME_LENGTH.pack(len(token)) + token

    for chunk in chunks:
        buffer += chunk
        # Strictly more than one frame: the last frame is never empty unless the file is.
        while len(buffer) > FILE_FRAME_SIZE:
            yield frame(bytes(buffer[:FILE_FRAME_SIZE]), False)
            del buffer[:FILE_FRAME_SIZE]
            number += 1
    yield frame(bytes(buffer), True)


class DecryptingReader(io.RawIOBase):
    """Reads the plaintext of a framed encrypted file, one frame (1 MiB) in memory at a time.

    Not seekable. Raises EncryptionKeyError when a frame does not decrypt or the frames are
    out of order, from another file, or cut off.
    """

    def __init__(self, raw: BinaryIO):
        super().__init__()
        self._raw = raw
        header = raw.read(_FILE_HEADER_SIZE)
        if len(header) != _FILE_HEADER_SIZE or not header.startswith(ENCRYPTED_FILE_MAGIC):
            raise EncryptionKeyError("Not an encrypted evidence file.")
        self._file_id = header[len(ENCRYPTED_FILE_MAGIC) :]
        self._number = 0
        self._view = memoryview(b"")
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._view and not self._done:
            self._view = memoryview(self._next_frame())
        count = min(len(buffer), len(self._view))
        buffer[:count] = self._view[:count]
        self._view = self._view[count:]
        return count

    def _next_frame(self) -> bytes:
        length = self._raw.read(_FRAME_LENGTH.size)
        if len(length) != _FRAME_LENGTH.size:
            raise EncryptionKeyError("The encrypted file is cut off.")
        (size,) = _FRAME_LENGTH.unpack(length)
        token = self._raw.read(size) if size <= _MAX_TOKEN_SIZE else b""
        if len(token) != size or not token:
            raise EncryptionKeyError("The encrypted file is damaged.")
        plaintext = decrypt_bytes(token)
        file_id, number, last = _FRAME_HEADER.unpack_from(plaintext)
        if file_id != self._file_id or number != self._number:
            raise EncryptionKeyError("The encrypted file has frames of another file or order.")
        if last and self._raw.read(1):
            raise EncryptionKeyError("The encrypted file has data after its last frame.")
        self._number += 1
        self._done = last
        return plaintext[_FRAME_HEADER.size :]

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def _decrypted_open(stored: BinaryIO, name: str) -> File:
    """The plaintext of the encrypted file `stored` (positioned at its start), as a File.

    Takes ownership of `stored`: the returned file closes it.
    """
    if stored.read(len(ENCRYPTED_FILE_MAGIC)) != ENCRYPTED_FILE_MAGIC:
        with stored:
            stored.seek(0)
            return ContentFile(decrypt_bytes(stored.read()), name=name)
    stored.seek(0)
    try:
        reader = DecryptingReader(stored)
    except BaseException:
        stored.close()
        raise
    return File(io.BufferedReader(reader, FILE_FRAME_SIZE), name)


def _plaintext_size(stored: BinaryIO) -> int:
    """The plaintext size of the seekable encrypted file `stored`: only its last frame is
    decrypted."""
    if stored.read(len(ENCRYPTED_FILE_MAGIC)) != ENCRYPTED_FILE_MAGIC:
        stored.seek(0)
        return len(decrypt_bytes(stored.read()))
    stored.seek(_FILE_HEADER_SIZE)
    frames = 0
    while length := stored.read(_FRAME_LENGTH.size):
        (token_size,) = _FRAME_LENGTH.unpack(length)
        position = stored.tell()
        stored.seek(token_size, io.SEEK_CUR)
        frames += 1
    if not frames:
        raise EncryptionKeyError("The encrypted file has no frames.")
    stored.seek(position)
    last = decrypt_bytes(stored.read(token_size))
    return (frames - 1) * FILE_FRAME_SIZE + len(last) - _FRAME_HEADER.size


def _rotated_copy(stored: BinaryIO, out: BinaryIO) -> None:
    """Write the encrypted file `stored` to `out`, every token re-encrypted with the current
    key. Frame by frame: the file id, numbers and flags inside each token stay."""
    if stored.read(len(ENCRYPTED_FILE_MAGIC)) == ENCRYPTED_FILE_MAGIC:
        stored.seek(0)
        out.write(stored.read(_FILE_HEADER_SIZE))
        while length := stored.read(_FRAME_LENGTH.size):
            (token_size,) = _FRAME_LENGTH.unpack(length)
            token = rotate_token(stored.read(token_size))
            out.write(_FRAME_LENGTH.pack(len(token)) + token)
    else:
        stored.seek(0)
        out.write(rotate_token(stored.read()))


class EncryptedStorage:
    """Marks a storage whose files are encrypted at rest (see ENCRYPTED_FILE_MAGIC): `open`
    gives the plaintext back, `save` never writes a plaintext byte, and `rotate(name)`
    re-encrypts one file with the current key (`manage.py rotate_encryption_keys`).

    Two backends, chosen with EVIDENCE_STORAGE (portal/settings.py, STORAGES["evidence"]):
    EncryptedFileSystemStorage here and portal.object_storage.EncryptedS3Storage.
    """

    def rotate(self, name) -> None:
        raise NotImplementedError

    # The stored (encrypted) bytes, as they are: what a backup copies and a restore puts
    # back (portal/backups.py). Never decrypted, so a backup holds no plaintext and no key.
    def raw_names(self) -> Iterator[str]:
        """The name of every stored file."""
        raise NotImplementedError

    def raw_open(self, name) -> BinaryIO:
        raise NotImplementedError

    def raw_size(self, name) -> int:
        raise NotImplementedError

    def raw_save(self, name, content: BinaryIO) -> None:
        """Store these encrypted bytes under exactly `name` (replacing a file of that name)."""
        raise NotImplementedError


class EncryptedFileSystemStorage(EncryptedStorage, FileSystemStorage):
    """Files on disk are encrypted (see ENCRYPTED_FILE_MAGIC); `open` gives the plaintext back.

    Writing and reading stream frame by frame: memory stays at about 1 MiB per open file,
    whatever the size of the file. Without a `location` the files live in
    PRIVATE_STORAGE_ROOT (read when first used, so a test can move it).
    """

    @cached_property
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_STORAGE_ROOT)

    def _save(self, name, content):
        # Never let FileSystemStorage move a plaintext temporary upload into place.
        return super()._save(name, _EncryptedChunks(content))

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted files are written with save(), never opened for writing.")
        stored = open(self.path(name), "rb")  # noqa: SIM115 (the returned file closes it)
        return _decrypted_open(stored, name)

    def size(self, name):
        # The plaintext size: what the download really sends. Only the last frame is decrypted.
        with open(self.path(name), "rb") as stored:
            return _plaintext_size(stored)

    def rotate(self, name) -> None:
        """Re-encrypt one file with the current key, atomically (write aside, then rename)."""
        path = self.path(name)
        temporary = f"{path}.rotating"
        with open(path, "rb") as stored, open(temporary, "wb") as out:
            _rotated_copy(stored, out)
        os.replace(temporary, path)

    def raw_names(self) -> Iterator[str]:
        root = os.fspath(self.location)
        for folder, _directories, files in os.walk(root):
            for file_name in files:
                if not file_name.endswith(".rotating"):
                    relative = os.path.relpath(os.path.join(folder, file_name), root)
                    yield relative.replace(os.sep, "/")

    def raw_open(self, name) -> BinaryIO:
        return open(self.path(name), "rb")  # noqa: SIM115 (the caller closes it)

    def raw_size(self, name) -> int:
        return os.path.getsize(self.path(name))

    def raw_save(self, name, content: BinaryIO) -> None:
        path = self.path(name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        temporary = f"{path}.restoring"
        with open(temporary, "wb") as out:
            while block := content.read(FILE_FRAME_SIZE):
                out.write(block)
        os.replace(temporary, path)


class _EncryptedChunks:
    """What FileSystemStorage._save writes: the encrypted frames of `content`."""

    def __init__(self, content):
        self._content = content

    def chunks(self, chunk_size=None):
        return encrypt_stream(self._content.chunks(FILE_FRAME_SIZE))


def _columns_transform(connection, table: str, columns: list[str], transform) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for column in columns:
            cursor.execute(
                f"SELECT id, {quote(column)} FROM {quote(table)} "  # noqa: S608
                f"WHERE {quote(column)} IS NOT NULL AND {quote(column)} <> ''"
            )
            for pk, value in cursor.fetchall():
                cursor.execute(
                    f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s",  # noqa: S608
                    [transform(value), pk],
                )


def _is_encrypted(value: str) -> bool:
    """A token that a configured key decrypts (so not plaintext)."""
    try:
        fernet().decrypt(value.encode("ascii"))
    except (InvalidToken, UnicodeEncodeError):
        return False
    return True


def _encrypt_unless_encrypted(value: str) -> str:
    return value if _is_encrypted(value) else encrypt_text(value)


def _decrypt_if_encrypted(value: str) -> str:
    return decrypt_text(value) if _is_encrypted(value) else value


_IDENTIFIER_HASH = re.compile(r"[0-9a-f]{64}")


def _hash_unless_hashed(value: str) -> str:
    return value if _IDENTIFIER_HASH.fullmatch(value) else identifier_hash(value)


def plaintext_columns_encrypt(connection, table: str, columns: list[str]) -> None:
    """Encrypt the existing plaintext of these columns in place (for data migrations).

    Works on raw values, since the encrypted fields of the historical models would try to
    decrypt what is still plaintext. Safe to run twice: a value that a configured key
    already decrypts is left as it is.
    """
    _columns_transform(connection, table, columns, _encrypt_unless_encrypted)


def plaintext_columns_decrypt(connection, table: str, columns: list[str]) -> None:
    """The reverse of `plaintext_columns_encrypt` (to migrate backwards); plaintext stays."""
    _columns_transform(connection, table, columns, _decrypt_if_encrypted)


def plaintext_columns_hash(connection, table: str, columns: list[str]) -> None:
    """Replace plain normalised identifiers by their keyed hash (one way only). Safe to run
    twice: a value that already is a hash (64 hex digits) is left as it is."""
    _columns_transform(connection, table, columns, _hash_unless_hashed)

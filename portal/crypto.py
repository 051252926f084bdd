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

An empty string stays empty: a blank optional field says nothing about an incident, and
``exclude(outcome="")`` keeps working. Anything else can only be matched after decrypting.
"""

import hashlib
import hmac
import json
import os
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models.lookups import Exact
from django.utils.crypto import salted_hmac


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


class EncryptedExact(Exact):
    """`field=""` works (blank says nothing); any other value would never match a token."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError("An encrypted field can only be compared with the empty string.")
        return super().get_prep_lookup()


class EncryptedTextField(models.TextField):
    """A text column that holds a Fernet token; Python code sees the plaintext.

    `max_length`, when given, is the length of the plaintext (checked by forms and
    validation); the column itself is unbounded text, since a token is longer.
    """

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


class EncryptedFileSystemStorage(FileSystemStorage):
    """Files on disk are Fernet tokens; `open` gives the plaintext back.

    Evidence is at most 10 MB, so encrypting in memory is fine.
    """

    def _save(self, name, content):
        content.seek(0)
        return super()._save(name, ContentFile(encrypt_bytes(content.read())))

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted files are written with save(), never opened for writing.")
        with open(self.path(name), "rb") as stored:
            plaintext = decrypt_bytes(stored.read())
        return ContentFile(plaintext, name=name)

    def size(self, name):
        # The plaintext size: what the download really sends.
        with self._open(name) as opened:
            return opened.size

    def rotate(self, name) -> None:
        """Re-encrypt one file with the current key, atomically (write aside, then rename)."""
        path = self.path(name)
        with open(path, "rb") as stored:
            token = rotate_token(stored.read())
        temporary = f"{path}.rotating"
        with open(temporary, "wb") as out:
            out.write(token)
        os.replace(temporary, path)


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


def plaintext_columns_encrypt(connection, table: str, columns: list[str]) -> None:
    """Encrypt the existing plaintext of these columns in place (for data migrations).

    Works on raw values, since the encrypted fields of the historical models would try to
    decrypt what is still plaintext.
    """
    _columns_transform(connection, table, columns, encrypt_text)


def plaintext_columns_decrypt(connection, table: str, columns: list[str]) -> None:
    """The reverse of `plaintext_columns_encrypt` (to migrate backwards)."""
    _columns_transform(connection, table, columns, decrypt_text)


def plaintext_columns_hash(connection, table: str, columns: list[str]) -> None:
    """Replace plain normalised identifiers by their keyed hash (one way only)."""
    _columns_transform(connection, table, columns, identifier_hash)

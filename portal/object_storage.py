"""Evidence in an S3-compatible object store (EVIDENCE_STORAGE=s3), encrypted before upload.

The bucket only ever receives the framed ciphertext of portal/crypto.py: the file is
encrypted into a temporary file (ciphertext only, in FILE_UPLOAD_TEMP_DIR once it is larger
than FILE_UPLOAD_MAX_MEMORY_SIZE) and that is uploaded; reading downloads the ciphertext the
same way and decrypts it frame by frame. So the object store's operator, a leaked bucket or
a backup of it holds no plaintext, and the keys never leave the portal.

Built on django-storages' S3Storage (boto3): works with AWS S3, MinIO, Ceph RGW and other
S3-compatible stores (`endpoint_url`). Only imported when STORAGES["evidence"] names it, so
the filesystem setup needs no boto3 at run time.
"""

import tempfile

from django.conf import settings
from django.core.files.base import File
from storages.backends.s3 import S3Storage

from portal.crypto import (
    FILE_FRAME_SIZE,
    EncryptedStorage,
    _decrypted_open,
    _plaintext_size,
    _rotated_copy,
    encrypt_stream,
)


def _spooled():
    return tempfile.SpooledTemporaryFile(  # noqa: SIM115 (returned to the caller)
        max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
        dir=settings.FILE_UPLOAD_TEMP_DIR,
        prefix="mwb-s3-",
    )


class EncryptedS3Storage(EncryptedStorage, S3Storage):
    """S3Storage whose objects are the encrypted form of each file (see the module docstring).

    Names are never overwritten (`file_overwrite` is off: evidence names are random anyway)
    and objects are private (no ACL, no public URL: files leave only through the portal's
    access-checked download).
    """

    def get_default_settings(self):
        return {
            **super().get_default_settings(),
            "file_overwrite": False,
            "default_acl": None,
            "max_memory_size": settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
        }

    def _upload(self, name, ciphertext) -> str:
        ciphertext.seek(0)
        return super()._save(name, File(ciphertext, name=name))

    def _save(self, name, content):
        with _spooled() as ciphertext:
            for chunk in encrypt_stream(content.chunks(FILE_FRAME_SIZE)):
                ciphertext.write(chunk)
            return self._upload(name, ciphertext)

    def _raw(self, name):
        stored = super()._open(name, "rb")
        stored.file  # noqa: B018 (downloads now: a missing object raises here)
        return stored

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Encrypted files are written with save(), never opened for writing.")
        return _decrypted_open(self._raw(name), name)

    def size(self, name):
        # The plaintext size (the object's own size is that of the ciphertext).
        with self._raw(name) as stored:
            return _plaintext_size(stored)

    def rotate(self, name) -> None:
        """Re-encrypt one object with the current key. S3 replaces an object atomically: a
        reader sees the old or the new ciphertext, never a mix."""
        with self._raw(name) as stored, _spooled() as out:
            _rotated_copy(stored, out)
            self._upload(name, out)

    def raw_names(self):
        prefix = f"{self.location}/" if self.location else ""
        for item in self.bucket.objects.filter(Prefix=prefix):
            yield item.key[len(prefix) :]

    def raw_open(self, name):
        return self._raw(name)

    def raw_size(self, name) -> int:
        return super().size(name)

    def raw_save(self, name, content) -> None:
        super()._save(name, File(content, name=name))

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise NotImplementedError("Evidence is only served through the portal's download view.")

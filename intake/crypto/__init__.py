"""The cryptographic core of intake: no Flask, no database, only bytes and files.

Key hierarchy (see DESIGN.md):

    passphrase --Argon2id--> KEK --unwraps--> user private key    (passphrase)
    user public key      <--grant-- desk epoch private key         (envelope)
    epoch public key     <--sealed-- submission data key           (envelope)
    data key --> fields (AES-256-GCM) and files (STREAM)           (fields, stream)
    later data key generations, one per rotation                   (generations)
    epoch private key --HKDF--> search index key (AES-256-GCM)     (index)
"""

from ._errors import DecryptionError
from .desk import NewDesk, create_desk, grant_epoch, unlock_epochs
from .envelope import (
    DATA_KEY_SIZE,
    new_data_key,
    open_case_key,
    open_data_key,
    open_epoch_key,
    seal_case_key,
    seal_data_key,
    seal_epoch_key,
    sealed_to,
)
from .family import derive_family_key, open_for_family, seal_for_family
from .fields import data_key_id, decrypt_field, encrypt_field
from .generations import CaseKeys
from .index import IndexKey
from .keyring import Desk, Epoch, Keyring, KeyringError
from .keys import PrivateKey, PublicKey
from .passphrase import (
    FAMILY_CODE,
    INSECURE_TEST_ONLY,
    MAX_PASSPHRASE_LENGTH,
    PROFILES,
    RFC_9106_LOW_MEMORY,
    AccountKeys,
    Profile,
    WrappedKey,
    needs_rewrap,
    needs_upgrade,
    rewrap,
    unlock,
    unlock_account,
    unlock_with_verifier,
    unwrap_private_key,
    wrap_account_keys,
    wrap_private_key,
)
from .recovery import (
    format_recovery_secret,
    parse_recovery_secret,
    recovery_key,
    recovery_signing_key,
)
from .signing import SigningPrivateKey, SigningPublicKey
from .stream import (
    StreamEncryptor,
    check_stream,
    ciphertext_size,
    decrypt_stream,
    padded_size,
)

__all__ = [
    "DATA_KEY_SIZE", "FAMILY_CODE", "INSECURE_TEST_ONLY", "MAX_PASSPHRASE_LENGTH", "PROFILES",
    "RFC_9106_LOW_MEMORY", "AccountKeys", "CaseKeys", "DecryptionError", "Desk", "Epoch",
    "IndexKey", "Keyring", "KeyringError", "NewDesk", "PrivateKey", "Profile", "PublicKey",
    "SigningPrivateKey", "SigningPublicKey", "StreamEncryptor",
    "WrappedKey",
    "ciphertext_size", "create_desk", "data_key_id", "derive_family_key", "open_for_family",
    "seal_for_family", "decrypt_field", "decrypt_stream", "check_stream",
    "encrypt_field", "format_recovery_secret", "grant_epoch", "needs_rewrap", "new_data_key",
    "open_case_key", "open_data_key", "open_epoch_key", "padded_size", "parse_recovery_secret",
    "needs_upgrade", "recovery_key", "recovery_signing_key", "rewrap", "unlock_account",
    "unlock_with_verifier",
    "wrap_account_keys",
    "seal_case_key", "seal_data_key", "seal_epoch_key", "sealed_to", "unlock", "unlock_epochs",
    "unwrap_private_key", "wrap_private_key",
]

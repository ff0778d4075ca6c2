import CityAuthFFI
import Foundation
import Security

/// The vault's key-wrapping slot on iOS: a P-256 key that never leaves the Secure Enclave
/// (a Keychain-held software key on the simulator, which has no Secure Enclave) wraps the
/// vault's data key with ECIES (X9.63 SHA-256 KDF, AES-GCM). Unwrapping needs the user's
/// presence (Face ID, Touch ID or the passcode); the system shows that prompt itself.
final class KeychainKeyWrapper: HostKeyWrapper, @unchecked Sendable {
    /// The Keychain tag of the private key, also the slot's key id in the vault.
    private let tag: String
    private let algorithm = SecKeyAlgorithm.eciesEncryptionCofactorVariableIVX963SHA256AESGCM
    private let lock = NSLock()

    init(tag: String = "city.cityauth.vault-key.v1") {
        self.tag = tag
    }

    func keyId() -> String { tag }

    func wrap(key: Data) throws -> Data {
        let privateKey = try existingKey() ?? createKey()
        guard let publicKey = SecKeyCopyPublicKey(privateKey) else {
            throw KeyWrapError.Failed(reason: "the device key has no public key")
        }
        var error: Unmanaged<CFError>?
        guard let wrapped = SecKeyCreateEncryptedData(publicKey, algorithm, key as CFData, &error) else {
            throw failure("wrap", error)
        }
        return wrapped as Data
    }

    func unwrap(wrapped: Data) throws -> Data {
        guard let privateKey = try existingKey() else {
            throw KeyWrapError.Failed(reason: "the device key is gone (device restored or passcode removed)")
        }
        var error: Unmanaged<CFError>?
        guard let plain = SecKeyCreateDecryptedData(privateKey, algorithm, wrapped as CFData, &error) else {
            throw failure("unwrap", error)
        }
        return plain as Data
    }

    /// Deletes the device key (when the user turns the slot off); its slot can no longer open.
    func deleteKey() {
        KeychainKeys.delete(tag: tag)
    }

    private func existingKey() throws -> SecKey? {
        try KeychainKeys.existing(tag: tag)
    }

    /// A new permanent key, in the Secure Enclave when the device has one; only this device,
    /// only while it has a passcode, and each use of the private key asks for the user.
    private func createKey() throws -> SecKey {
        lock.lock()
        defer { lock.unlock() }
        if let key = try existingKey() { return key }
        return try KeychainKeys.create(
            tag: tag, accessible: kSecAttrAccessibleWhenPasscodeSetThisDeviceOnly, flags: [.userPresence])
    }

    private func failure(_ step: String, _ error: Unmanaged<CFError>?) -> KeyWrapError {
        KeychainKeys.failure(step, error)
    }
}

import CityAuthFFI
import Foundation
import Security

/// The device's signing key on iOS: a P-256 key made in the Secure Enclave (a Keychain
/// software key on the simulator) that signs the protocol's requests and answers. The core
/// holds only its public key and tag; the private key never leaves the enclave.
///
/// No user-presence rule on the key: the app signs its polls for pending requests in the
/// background, and an answer is already behind the app's own confirmation and number match.
/// The key is readable after the first unlock since boot, on this device only (not in backups).
final class SecureEnclaveDeviceSigner: HostDeviceSigner, @unchecked Sendable {
    /// The Keychain tag of the private key, also the key id the vault records.
    private let tag: String
    private let lock = NSLock()

    init(tag: String = "city.cityauth.device-key.v1") {
        self.tag = tag
    }

    func keyId() -> String { tag }

    /// The key's public point, uncompressed (0x04 ‖ X ‖ Y); the key is made on first use.
    func publicKey() throws -> Data {
        let privateKey = try existingOrNewKey()
        guard let publicKey = SecKeyCopyPublicKey(privateKey) else {
            throw KeyWrapError.Failed(reason: "the device key has no public key")
        }
        var error: Unmanaged<CFError>?
        guard let point = SecKeyCopyExternalRepresentation(publicKey, &error) else {
            throw KeychainKeys.failure("public key", error)
        }
        return point as Data
    }

    /// An ECDSA P-256 SHA-256 signature of `message`, DER-encoded (X9.62), as the core expects.
    /// Fails when the key is gone (device restored, app reinstalled): the core then reports
    /// that this device must be registered again.
    func sign(message: Data) throws -> Data {
        guard let privateKey = try KeychainKeys.existing(tag: tag) else {
            throw KeyWrapError.Failed(reason: "the device key is gone (device restored or app reinstalled)")
        }
        var error: Unmanaged<CFError>?
        guard let signature = SecKeyCreateSignature(
            privateKey, .ecdsaSignatureMessageX962SHA256, message as CFData, &error)
        else {
            throw KeychainKeys.failure("sign", error)
        }
        return signature as Data
    }

    /// Deletes the key once the device is unenrolled; a later enrollment makes a new one.
    func deleteKey() {
        KeychainKeys.delete(tag: tag)
    }

    private func existingOrNewKey() throws -> SecKey {
        lock.lock()
        defer { lock.unlock() }
        if let key = try KeychainKeys.existing(tag: tag) { return key }
        return try KeychainKeys.create(
            tag: tag, accessible: kSecAttrAccessibleAfterFirstUnlockThisDeviceOnly, flags: [])
    }
}

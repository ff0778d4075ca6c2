import CityAuthFFI
import CryptoKit
import Foundation
import Security

/// P-256 keys the Keychain holds by tag: looked up, made (in the Secure Enclave when the
/// device has one) and deleted. The vault's unlock slot and the device's signing key both
/// live here; each names its own tag and access rules.
enum KeychainKeys {
    /// The private key stored under `tag`, or nil when there is none.
    static func existing(tag: String) throws -> SecKey? {
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: Data(tag.utf8),
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecReturnRef as String: true,
        ]
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        switch status {
        case errSecSuccess:
            guard let item, CFGetTypeID(item) == SecKeyGetTypeID() else {
                throw KeyWrapError.Failed(reason: "the Keychain item is not a key")
            }
            return (item as! SecKey)
        case errSecItemNotFound:
            return nil
        default:
            throw KeyWrapError.Failed(reason: "Keychain lookup failed with status \(status)")
        }
    }

    /// A new permanent key under `tag`, only on this device, readable as `accessible` says.
    /// In the Secure Enclave when there is one (the simulator has none: a Keychain software
    /// key there); `flags` are added to the enclave's own `privateKeyUsage`.
    static func create(
        tag: String, accessible: CFString, flags: SecAccessControlCreateFlags
    ) throws -> SecKey {
        var error: Unmanaged<CFError>?
        let inEnclave = SecureEnclave.isAvailable
        // privateKeyUsage is the Secure Enclave's flag; a software key refuses it.
        let allFlags: SecAccessControlCreateFlags = inEnclave ? flags.union(.privateKeyUsage) : flags
        guard let access = SecAccessControlCreateWithFlags(nil, accessible, allFlags, &error) else {
            throw failure("access control", error)
        }
        var attributes: [String: Any] = [
            kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom,
            kSecAttrKeySizeInBits as String: 256,
            kSecPrivateKeyAttrs as String: [
                kSecAttrIsPermanent as String: true,
                kSecAttrApplicationTag as String: Data(tag.utf8),
                kSecAttrAccessControl as String: access,
            ] as [String: Any],
        ]
        if inEnclave {
            attributes[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave
        }
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw failure("key creation", error)
        }
        return key
    }

    /// Deletes the key under `tag`; whatever it wrapped or signed for can no longer use it.
    static func delete(tag: String) {
        let query: [String: Any] = [
            kSecClass as String: kSecClassKey,
            kSecAttrApplicationTag as String: Data(tag.utf8),
        ]
        SecItemDelete(query as CFDictionary)
    }

    /// A typed error naming the step; the system's reason text holds no key material.
    static func failure(_ step: String, _ error: Unmanaged<CFError>?) -> KeyWrapError {
        let reason = error.map { $0.takeRetainedValue().localizedDescription } ?? "unknown error"
        return KeyWrapError.Failed(reason: "\(step): \(reason)")
    }
}

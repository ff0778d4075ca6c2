package city.cityauth

import city.cityauth.ffi.InternalException
import city.cityauth.ffi.Vault
import city.cityauth.ffi.panicForTesting
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class PanicTest {
    @Test
    fun `a panic in Rust is a Kotlin exception and the JVM goes on`() {
        repeat(3) {
            val error = assertThrows<InternalException> { panicForTesting("on purpose") }
            assertTrue(error.message!!.contains("on purpose"), error.message)
        }
        // The library still works afterwards, on this thread and others.
        Vault.create(newVaultPath(), "test passphrase", CHEAP_KDF).use { vault ->
            vault.addFromLink("otpauth://totp/A:b?secret=${Rfc6238.SHA1}&digits=8")
            val fromThread = arrayOfNulls<String>(1)
            Thread { fromThread[0] = vault.codesAt(59u).single().code }.apply { start(); join() }
            assertEquals("94287082", fromThread[0])
        }
    }
}

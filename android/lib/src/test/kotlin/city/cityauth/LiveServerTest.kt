package city.cityauth

import city.cityauth.ffi.ChallengeKind
import city.cityauth.ffi.CityAuthException
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** Enrollment and approvals against the real `cityauth-server` binary on loopback. */
class LiveServerTest : WithCityServer() {
    @Test
    fun `enroll from the link, then deny, refuse a wrong number, and approve a password reset`() = runBlocking<Unit> {
        city.addEmployee("alice", "Alice Example")
        val link = city.enrollmentLink("alice")
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault).use { approvals ->
                val enrolled = approvals.enroll(link, "JUnit phone")
                assertEquals("alice", enrolled.username)
                assertEquals("Alice Example", enrolled.displayName)
                assertEquals(city.url, vault.vault.enrollment()?.serverUrl)
                // The City account's own codes arrived as an account when the server issues one.
                enrolled.cityAccountId?.let { id -> assertTrue(vault.accounts().any { it.accountId == id }) }
                assertTrue(approvals.pending().isEmpty())

                // 1. Denied on the phone: the browser's reset is denied.
                val (denied, _) = city.startReset("alice")
                val first = approvals.pending(waitSeconds = 5).single()
                assertEquals(ChallengeKind.PASSWORD_RESET, first.kind)
                assertEquals("alice", first.account)
                assertEquals("denied", approvals.deny(first.id))
                assertEquals("denied", city.resetState(denied))

                // 2. A number of the wrong length never leaves the phone; a wrong number is refused.
                val (_, shown) = city.startReset("alice")
                val second = approvals.pending(waitSeconds = 5).single()
                assertEquals(shown.length, second.numberDigits.toInt())
                val format = assertThrows<CityAuthException.WrongNumberFormat> {
                    runBlocking { approvals.approve(second.id, shown + "0") }
                }
                assertEquals(shown.length, format.digits.toInt())
                val wrong = (shown.toInt() + 1).mod(Math.pow(10.0, shown.length.toDouble()).toInt())
                    .toString().padStart(shown.length, '0')
                val refused = assertThrows<CityAuthException.ServerRefused> {
                    runBlocking { approvals.approve(second.id, wrong) }
                }
                assertEquals("wrong_number", refused.code)

                // 3. Approved with the number the browser shows: the reset is verified.
                val (approved, number) = city.startReset("alice")
                val third = approvals.pending(waitSeconds = 5).single { it.id != second.id }
                assertEquals("approved", approvals.approve(third.id, number))
                assertEquals("verified", city.resetState(approved))
                // Answered requests are gone; answering again is Expired.
                assertThrows<CityAuthException.Expired> { runBlocking { approvals.approve(third.id, number) } }

                approvals.unenroll()
                assertNull(vault.vault.enrollment())
                assertThrows<CityAuthException.NotEnrolled> { runBlocking { approvals.pending() } }
            }
        }
    }

    @Test
    fun `a malformed enrollment link names its field, and an unreachable server is a network error`() = runBlocking<Unit> {
        city.addEmployee("bob", "Bob Example")
        val link = city.enrollmentLink("bob")
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault).use { approvals ->
                val bad = assertThrows<CityAuthException.InvalidLink> {
                    runBlocking { approvals.enroll(link.replace(Regex("fp=[^&]*"), "fp=short"), "phone") }
                }
                assertEquals("fp", bad.field)
                val closedPort = java.net.ServerSocket(0).use { it.localPort }
                val port = city.url.substringAfterLast(':')
                val unreachable = link.replace("127.0.0.1%3A$port", "127.0.0.1%3A$closedPort")
                    .replace("127.0.0.1:$port", "127.0.0.1:$closedPort")
                check(unreachable != link) { "the port is not in $link" }
                assertThrows<CityAuthException.Network> { runBlocking { approvals.enroll(unreachable, "phone") } }
                // Nothing was stored: the real server still enrolls this vault.
                assertNull(vault.vault.enrollment())
                assertEquals("bob", approvals.enroll(link, "phone").username)
                assertNotNull(vault.vault.enrollment())
            }
        }
    }

    @Test
    fun `approvals through the host's HTTP stack (HttpURLConnection) reach the same server`() = runBlocking<Unit> {
        city.addEmployee("carol", "Carol Example")
        val link = city.enrollmentLink("carol")
        val sent = java.util.concurrent.atomic.AtomicInteger()
        val counting = object : city.cityauth.ffi.HostHttpTransport {
            val inner = UrlConnectionTransport()
            override fun send(request: city.cityauth.ffi.HostHttpRequest): city.cityauth.ffi.HostHttpResponse {
                assertTrue(request.url.startsWith(city.url), request.url)
                sent.incrementAndGet()
                return inner.send(request)
            }
        }
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault, transport = counting).use { approvals ->
                assertEquals("carol", approvals.enroll(link, "JUnit phone").username)
                val (reset, number) = city.startReset("carol")
                val challenge = approvals.pending(waitSeconds = 5).single()
                assertEquals("approved", approvals.approve(challenge.id, number))
                assertEquals("verified", city.resetState(reset))
            }
        }
        // Enroll, the pending list, and the answer (which fetches the request again first).
        assertTrue(sent.get() >= 4, "only ${sent.get()} requests went through the host transport")

        val dead = object : city.cityauth.ffi.HostHttpTransport {
            override fun send(request: city.cityauth.ffi.HostHttpRequest): city.cityauth.ffi.HostHttpResponse =
                throw java.io.UncheckedIOException(java.io.IOException("airplane mode"))
        }
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault, transport = dead).use { approvals ->
                val error = assertThrows<CityAuthException.Network> {
                    runBlocking { approvals.enroll(city.enrollmentLink("carol"), "phone") }
                }
                assertTrue(error.detail.contains("airplane mode"), error.detail)
            }
        }
    }

    @Test
    fun `forgetEnrollment works with the server out of reach and keeps the City codes`() = runBlocking<Unit> {
        city.addEmployee("erin", "Erin Example")
        val link = city.enrollmentLink("erin")
        val offline = java.util.concurrent.atomic.AtomicBoolean(false)
        val switchable = object : city.cityauth.ffi.HostHttpTransport {
            val inner = UrlConnectionTransport()
            override fun send(request: city.cityauth.ffi.HostHttpRequest): city.cityauth.ffi.HostHttpResponse {
                if (offline.get()) throw java.io.UncheckedIOException(java.io.IOException("server gone"))
                return inner.send(request)
            }
        }
        CityAuthVault.create(newVaultPath(), "phone passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            CityAuthApprovals(vault, transport = switchable).use { approvals ->
                approvals.enroll(link, "JUnit phone")
                val before = vault.accounts()
                offline.set(true)
                assertThrows<CityAuthException.Network> { runBlocking { approvals.unenroll() } }
                vault.forgetEnrollment()
                assertNull(vault.vault.enrollment())
                assertEquals(before, vault.accounts())
                assertEquals(before.size, vault.codes().size)
            }
        }
    }
}

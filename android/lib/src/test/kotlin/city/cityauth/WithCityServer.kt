package city.cityauth

import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.TestInstance

/** A test class with one real `cityauth-server` binary on loopback for all its tests. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WithCityServer {
    protected lateinit var city: CityServer

    @BeforeAll
    fun start() {
        city = CityServer()
    }

    @AfterAll
    fun stop() = city.close()
}

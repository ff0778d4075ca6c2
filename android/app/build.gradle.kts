// The cityauth Android app: Compose UI over the Kotlin library (android/lib) and the uniffi
// bindings, with the Rust core cross-compiled by cargo-ndk. See android/README.md, "App".
import org.gradle.api.tasks.Exec

plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
    id("org.jetbrains.kotlin.plugin.compose")
}

// FCM needs the Firebase project's google-services.json next to this file; without it the
// app builds and runs, and approvals arrive when the app is opened instead of by push.
if (file("google-services.json").exists()) {
    apply(plugin = "com.google.gms.google-services")
}

val workspace: File = rootDir.parentFile
val rustJniLibs = layout.buildDirectory.dir("rustJniLibs")
val abis = listOf("arm64-v8a", "armeabi-v7a", "x86_64")
val minSdkVersion = 26

android {
    namespace = "city.cityauth.app"
    compileSdk = 36
    ndkVersion = "27.3.13750724"

    defaultConfig {
        applicationId = "city.cityauth.app"
        minSdk = minSdkVersion
        targetSdk = 36
        versionCode = 1
        versionName = "0.1.0"
        ndk { abiFilters += abis }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    buildFeatures { compose = true }

    // English (values/) and Spanish (values-es/): the generated locale config lists both for
    // Android 13's per-app language setting; res/resources.properties names values/'s language.
    androidResources { generateLocaleConfig = true }

    sourceSets {
        getByName("main") {
            // The library's wrappers and the Android generation of the bindings (uniffi's
            // android settings: android.system cleaner APIs from minSdk 26); the JVM tests run
            // the same wrappers over the JVM generation (bindings/out/kotlin).
            kotlin.srcDirs(
                "src/main/kotlin",
                "$workspace/android/lib/src/main/kotlin",
                "$workspace/bindings/out/kotlin-android",
            )
            jniLibs.srcDirs(rustJniLibs)
        }
    }
}

kotlin {
    jvmToolchain(17)
}

// Generates bindings/out/kotlin and bindings/out/kotlin-android from the host build of cityauth-ffi (uniffi library mode).
val generateBindings by tasks.registering(Exec::class) {
    group = "rust"
    description = "Runs bindings/build-bindings.sh (host build + Kotlin and Swift generation)."
    workingDir = workspace
    commandLine("bash", "bindings/build-bindings.sh", "--release")
    inputs.dir("$workspace/bindings/src")
    inputs.dir("$workspace/core/src")
    outputs.dir("$workspace/bindings/out/kotlin-android")
}

// Cross-compiles libcityauth_ffi.so for each ABI into build/rustJniLibs/<abi>/.
val cargoNdk by tasks.registering(Exec::class) {
    group = "rust"
    description = "cargo ndk build --profile mobile -p cityauth-ffi (no Rust transport) for ${abis.joinToString()}."
    workingDir = workspace
    val targets = abis.flatMap { listOf("-t", it) }
    commandLine(
        listOf("cargo", "ndk") + targets + listOf(
            "--platform", minSdkVersion.toString(),
            "-o", rustJniLibs.get().asFile.absolutePath,
            // The mobile profile (size-optimised release) without the core's own HTTPS
            // client: the app sends every request through UrlConnectionTransport.
            "build", "--profile", "mobile", "-p", "cityauth-ffi", "--lib", "--no-default-features",
        ),
    )
    inputs.dir("$workspace/bindings/src")
    inputs.dir("$workspace/core/src")
    inputs.dir("$workspace/protocol/src")
    outputs.dir(rustJniLibs)
}

if (providers.gradleProperty("skipCargo").orNull != "true") {
    tasks.named("preBuild") { dependsOn(generateBindings, cargoNdk) }
}

dependencies {
    val composeBom = platform("androidx.compose:compose-bom:2025.06.00")
    implementation(composeBom)
    implementation("androidx.compose.material3:material3")
    implementation("androidx.compose.material:material-icons-core")
    implementation("androidx.compose.ui:ui")
    implementation("androidx.compose.ui:ui-tooling-preview")
    debugImplementation("androidx.compose.ui:ui-tooling")
    implementation("androidx.activity:activity-compose:1.10.1")
    implementation("androidx.lifecycle:lifecycle-viewmodel-compose:2.9.1")
    implementation("androidx.lifecycle:lifecycle-runtime-compose:2.9.1")
    implementation("androidx.lifecycle:lifecycle-process:2.9.1")
    implementation("androidx.biometric:biometric:1.1.0")
    implementation("androidx.camera:camera-camera2:1.4.2")
    implementation("androidx.camera:camera-lifecycle:1.4.2")
    implementation("androidx.camera:camera-view:1.4.2")
    implementation("com.google.mlkit:barcode-scanning:17.3.0")
    implementation("com.google.firebase:firebase-messaging:24.1.2")
    // The library's dependencies (android/lib/pom.xml), JNA as the Android AAR with its .so files.
    implementation("net.java.dev.jna:jna:5.19.1@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.11.0")
}

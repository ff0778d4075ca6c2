// The Android app's Gradle build (android/app). The Kotlin library in android/lib is built
// and tested with Maven on a JVM; the app compiles the same sources (see app/build.gradle.kts).
pluginManagement {
    repositories {
        google()
        mavenCentral()
        gradlePluginPortal()
    }
}

dependencyResolutionManagement {
    repositoriesMode.set(RepositoriesMode.FAIL_ON_PROJECT_REPOS)
    repositories {
        google()
        mavenCentral()
    }
}

rootProject.name = "cityauth-android"
include(":app")

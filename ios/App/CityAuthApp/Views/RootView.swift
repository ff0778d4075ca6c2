import CityAuthFFI
import SwiftUI

/// Chooses the screen from the vault's state; shows a pending request over anything.
struct RootView: View {
    @EnvironmentObject private var model: AppModel

    var body: some View {
        Group {
            switch model.phase {
            case .starting:
                ProgressView()
            case .noVault:
                PassphraseView(mode: .create)
            case .locked:
                PassphraseView(mode: .unlock)
            case .unlocked:
                TabView {
                    NavigationStack { AccountListView() }
                        .tabItem { Label("Codes", systemImage: "number") }
                    NavigationStack { SettingsView() }
                        .tabItem { Label("Settings", systemImage: "gear") }
                }
            }
        }
        .sheet(item: firstPending) { challenge in
            ApprovalView(challenge: challenge)
        }
        .alert("cityauth", isPresented: hasMessage) {
            Button("OK") { model.message = nil }
        } message: {
            Text(model.message ?? "")
        }
    }

    private var firstPending: Binding<Challenge?> {
        Binding(get: { model.pending.first }, set: { _ in })
    }

    private var hasMessage: Binding<Bool> {
        Binding(get: { model.message != nil }, set: { shown in if !shown { model.message = nil } })
    }
}

extension Challenge: Identifiable {}

import CityAuth
import CityAuthFFI
import SwiftUI
import UIKit

/// The codes: one row per account with its code and a countdown ring, refreshed each second
/// from one batch call. HOTP rows show a button for the next code.
struct AccountListView: View {
    @EnvironmentObject private var model: AppModel
    @State private var adding = false

    var body: some View {
        List {
            ForEach(model.rows) { row in
                CodeRowView(row: row, hotpCode: model.hotpCodes[row.id]) {
                    Task { await model.nextHotp(row.id) }
                }
            }
            .onDelete { offsets in
                let ids = offsets.map { model.rows[$0].id }
                Task { for id in ids { await model.remove(id) } }
            }
            .onMove { source, destination in
                guard let from = source.first else { return }
                let id = model.rows[from].id
                let position = destination > from ? destination - 1 : destination
                Task { await model.move(id, to: position) }
            }
        }
        .overlay {
            if model.rows.isEmpty {
                Text("codes.empty").foregroundStyle(.secondary)
            }
        }
        .refreshable { await model.wake() }
        .navigationTitle("tab.codes")
        .toolbar {
            ToolbarItem(placement: .navigationBarLeading) { EditButton() }
            ToolbarItem(placement: .navigationBarTrailing) {
                Button { adding = true } label: { Image(systemName: "plus") }
                    .accessibilityLabel("add.account")
            }
        }
        .sheet(isPresented: $adding) {
            NavigationStack { AddAccountView() }
        }
    }
}

/// One account: title, code (tap to copy) and the seconds left.
struct CodeRowView: View {
    let row: CodeRow
    let hotpCode: String?
    let nextHotp: () -> Void

    var body: some View {
        HStack {
            VStack(alignment: .leading, spacing: 4) {
                Text(row.title).font(.subheadline).foregroundStyle(.secondary)
                Text(shownCode)
                    .font(.system(.title, design: .monospaced))
                    .onTapGesture { UIPasteboard.general.string = rawCode }
                    .accessibilityHint("codes.copy_hint")
            }
            Spacer()
            if row.account.kind == .hotp {
                Button("codes.next", action: nextHotp).buttonStyle(.bordered)
            } else if let code = row.code {
                ZStack {
                    Circle().stroke(.quaternary, lineWidth: 4)
                    Circle()
                        .trim(from: 0, to: row.progress)
                        .stroke(code.remaining <= 5 ? Color.red : Color.accentColor, lineWidth: 4)
                        .rotationEffect(.degrees(-90))
                    Text(verbatim: String(code.remaining)).font(.caption.monospacedDigit())
                }
                .frame(width: 36, height: 36)
                .accessibilityLabel(formatted(String(localized: "codes.seconds_left"), Int(code.remaining)))
            }
        }
        .padding(.vertical, 4)
    }

    private var rawCode: String {
        row.account.kind == .hotp ? (hotpCode ?? "") : (row.code?.code ?? "")
    }

    private var shownCode: String {
        if row.account.kind == .hotp {
            return hotpCode ?? "••• •••"
        }
        return row.displayedCode
    }
}

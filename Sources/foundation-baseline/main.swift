// The benchmark's baseline process: it starts Foundation (process info, the file manager, a date)
// and does nothing else, so that the start-up of `voucher verify CODE` can be compared with what
// any Foundation program pays. It is linked like `voucher`.
import Foundation

let info = ProcessInfo.processInfo
let folder = FileManager.default.currentDirectoryPath
if info.arguments.count > 5 { print(folder, info.environment.count, Date()) }

import Foundation

@testable import VoucherKit
@testable import VoucherRegistry

#if canImport(Glibc)
  import Glibc
#endif

/// A file layer that does every call on the real files (so the registry runs as it would) and
/// keeps, beside them, what a power loss at this moment could leave on disk.
///
/// The model, per file (an inode, whatever its names):
/// - `durable`: the bytes on disk, as of the file's last `sync`;
/// - `pending`: the writes, allocations and truncations since, in order: each may or may not
///   have reached the disk, in part, or garbled;
/// - for a mapped file, every version of each 4 KiB page seen since the last sync (pages are
///   read back through the page cache at every call of the seam): the kernel may write a dirty
///   page back at any time, so any of them, or the old one, may be on disk.
///
/// Folder entries (create, link, rename, remove) are durable only after `syncDirectory` of their
/// folder; a power loss keeps a prefix of each folder's pending entries (ext4 commits its
/// metadata journal in order).
final class RecordingFiles: FileLayer {
  /// Where a write lands: the disk's unit of atomicity.
  static let sectorSize = 512
  /// The page cache's unit of write-back.
  static let pageSize = 4096

  /// The contents of a file: its size and its non-zero 4 KiB pages.
  struct Image {
    var size: Int64 = 0
    var pages: [Int64: [UInt8]] = [:]

    mutating func write(_ bytes: [UInt8], at offset: Int64) {
      var done = 0
      while done < bytes.count {
        let position = offset + Int64(done)
        let page = position / Int64(RecordingFiles.pageSize)
        let inPage = Int(position % Int64(RecordingFiles.pageSize))
        let count = min(bytes.count - done, RecordingFiles.pageSize - inPage)
        var content =
          pages[page] ?? [UInt8](repeating: 0, count: RecordingFiles.pageSize)
        content.replaceSubrange(inPage..<(inPage + count), with: bytes[done..<(done + count)])
        pages[page] = content
        done += count
      }
      size = max(size, offset + Int64(bytes.count))
    }

    /// Sets the length: a longer file reads zeros, a shorter one loses its bytes.
    mutating func resize(to length: Int64) {
      if length < size {
        let pageSize = Int64(RecordingFiles.pageSize)
        pages = pages.filter { $0.key * pageSize < length }
        let last = length / pageSize
        if var content = pages[last] {
          let keep = Int(length % pageSize)
          for index in keep..<content.count { content[index] = 0 }
          pages[last] = content
        }
      }
      size = length
    }

    func page(_ index: Int64) -> [UInt8] {
      pages[index] ?? [UInt8](repeating: 0, count: RecordingFiles.pageSize)
    }

    /// Writes the image to a real file, sparse.
    func materialize(at path: String) throws {
      let fd = Glibc.open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw TestFailure("cannot create \(path)") }
      defer { Glibc.close(fd) }
      guard ftruncate(fd, off_t(size)) == 0 else { throw TestFailure("cannot size \(path)") }
      for (index, content) in pages {
        let offset = index * Int64(RecordingFiles.pageSize)
        guard offset < size else { continue }
        let count = Int(min(Int64(content.count), size - offset))
        let written = content.withUnsafeBytes { pwrite(fd, $0.baseAddress, count, off_t(offset)) }
        guard written == count else { throw TestFailure("cannot write \(path)") }
      }
    }
  }

  /// A change to a file not yet made durable by a sync.
  enum Change {
    case write(offset: Int64, bytes: [UInt8])
    case resize(length: Int64)
  }

  /// One file (inode).
  final class Node {
    let id: Int
    var durable: Image
    var pending: [Change] = []
    /// Whether the file was ever mapped: its changes are then read back from the page cache.
    var mapped = false
    /// A descriptor of our own, to read the page cache.
    var reader: Int32 = -1
    /// Page versions seen since the last sync, oldest first.
    var versions: [Int64: [[UInt8]]] = [:]

    init(id: Int, durable: Image) {
      self.id = id
      self.durable = durable
    }
  }

  /// A change to a folder's entries not yet made durable by a folder sync.
  enum Entry {
    case link(path: String, node: Node)
    case rename(from: String, to: String)
    case remove(path: String)

    var folder: String {
      switch self {
      case .link(let path, _), .remove(let path): return FileSystem.parentDirectory(of: path)
      case .rename(_, let to): return FileSystem.parentDirectory(of: to)
      }
    }
  }

  let real = SystemFiles()
  /// Names on disk.
  private(set) var durableNames: [String: Node] = [:]
  /// Names as processes see them.
  private(set) var names: [String: Node] = [:]
  /// Folder changes not yet durable, in order.
  private(set) var pendingEntries: [Entry] = []
  private var descriptors: [FileDescriptor: Node] = [:]
  private var mappings: [UnsafeMutableRawPointer: Node] = [:]
  private var nextID = 0
  /// Called before every `sync` and `syncDirectory`: the moments a crash leaves the most behind.
  var onSyncPoint: ((String) -> Void)?
  /// Calls of the seam so far.
  private(set) var calls = 0

  /// Starts from the files of `folder` as they are, all durable (the caller synced them).
  init(folder: String) throws {
    for name in try FileManager.default.subpathsOfDirectory(atPath: folder) {
      let path = folder + "/" + name
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder),
        !isFolder.boolValue
      else { continue }
      var image = Image()
      let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
      image.write(bytes, at: 0)
      image.pages = image.pages.filter { $0.value.contains { $0 != 0 } }
      let node = makeNode(image)
      node.reader = Glibc.open(path, O_RDONLY | O_CLOEXEC)
      durableNames[path] = node
      names[path] = node
    }
  }

  deinit {
    var closed = Set<Int32>()
    for node in names.values where node.reader >= 0 && !closed.contains(node.reader) {
      Glibc.close(node.reader)
      closed.insert(node.reader)
    }
  }

  private func makeNode(_ image: Image) -> Node {
    nextID += 1
    return Node(id: nextID, durable: image)
  }

  /// Every node that a name, durable or live, leads to.
  var nodes: [Node] {
    var seen = Set<Int>()
    var out: [Node] = []
    for node in Array(durableNames.values) + Array(names.values)
    where seen.insert(node.id).inserted {
      out.append(node)
    }
    return out.sorted { $0.id < $1.id }
  }

  // MARK: - Mapped pages

  /// Reads every mapped file's pages back from the page cache and keeps new versions.
  func observeMappings() {
    for node in Set(mappings.values.map(\.id)).sorted().compactMap({ id in
      mappings.values.first { $0.id == id }
    }) {
      observe(node)
    }
  }

  private func observe(_ node: Node) {
    guard node.reader >= 0 else { return }
    var info = stat()
    guard fstat(node.reader, &info) == 0 else { return }
    let size = Int64(info.st_size)
    var offset: Int64 = 0
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while offset < size {
      let count = buffer.withUnsafeMutableBytes {
        pread(node.reader, $0.baseAddress, min($0.count, Int(size - offset)), off_t(offset))
      }
      guard count > 0 else { break }
      var start = 0
      while start < count {
        let page = (offset + Int64(start)) / Int64(Self.pageSize)
        let end = min(count, start + Self.pageSize)
        var content = Array(buffer[start..<end])
        if content.count < Self.pageSize {
          content += [UInt8](repeating: 0, count: Self.pageSize - content.count)
        }
        let known = node.versions[page]?.last ?? node.durable.page(page)
        if content != known { node.versions[page, default: []].append(content) }
        start = end
      }
      offset += Int64(count)
    }
  }

  // MARK: - FileLayer

  func open(_ path: String, create: Bool) throws(SystemError) -> FileDescriptor {
    calls += 1
    observeMappings()
    let fd = try real.open(path, create: create)
    if let node = names[path] {
      descriptors[fd] = node
    } else {
      let node = makeNode(Image())
      node.reader = Glibc.open(path, O_RDONLY | O_CLOEXEC)
      names[path] = node
      pendingEntries.append(.link(path: path, node: node))
      descriptors[fd] = node
    }
    return fd
  }

  func close(_ file: FileDescriptor) {
    descriptors[file] = nil
    real.close(file)
  }

  func size(_ file: FileDescriptor, path: String) throws(SystemError) -> Int64 {
    try real.size(file, path: path)
  }

  func read(_ file: FileDescriptor, at offset: Int64, count: Int, path: String) throws(SystemError)
    -> [UInt8]
  {
    try real.read(file, at: offset, count: count, path: path)
  }

  func write(_ file: FileDescriptor, _ bytes: [UInt8], at offset: Int64, path: String) throws(SystemError) {
    calls += 1
    observeMappings()
    try real.write(file, bytes, at: offset, path: path)
    descriptors[file]?.pending.append(.write(offset: offset, bytes: bytes))
  }

  func sync(_ file: FileDescriptor, path: String) throws(SystemError) {
    calls += 1
    observeMappings()
    onSyncPoint?("sync \(path)")
    try real.sync(file, path: path)
    guard let node = descriptors[file] else { return }
    if node.mapped {
      observe(node)
      for (page, versions) in node.versions { node.durable.pages[page] = versions.last }
      node.versions = [:]
      var info = stat()
      if fstat(node.reader, &info) == 0 { node.durable.resize(to: Int64(info.st_size)) }
      // The page cache already holds every write: nothing else is pending.
      node.pending = []
      return
    }
    for change in node.pending {
      switch change {
      case .write(let offset, let bytes): node.durable.write(bytes, at: offset)
      case .resize(let length): node.durable.resize(to: length)
      }
    }
    node.pending = []
  }

  func allocate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    calls += 1
    observeMappings()
    let before = try real.size(file, path: path)
    try real.allocate(file, to: length, path: path)
    if length > before { descriptors[file]?.pending.append(.resize(length: length)) }
  }

  func reserve(_ file: FileDescriptor, offset: Int64, length: Int64, path: String) throws(SystemError) {
    calls += 1
    observeMappings()
    try real.reserve(file, offset: offset, length: length, path: path)
  }

  func link(_ from: String, to: String) throws(SystemError) {
    calls += 1
    observeMappings()
    try real.link(from, to: to)
    if let node = names[from] {
      names[to] = node
      pendingEntries.append(.link(path: to, node: node))
    }
  }

  func map(_ file: FileDescriptor, length: Int, path: String) throws(SystemError) -> UnsafeMutableRawPointer
  {
    calls += 1
    observeMappings()
    let address = try real.map(file, length: length, path: path)
    if let node = descriptors[file] {
      node.mapped = true
      mappings[address] = node
    }
    return address
  }

  func unmap(_ address: UnsafeMutableRawPointer, length: Int) {
    if let node = mappings[address] { observe(node) }
    mappings[address] = nil
    real.unmap(address, length: length)
  }

  func truncate(_ file: FileDescriptor, to length: Int64, path: String) throws(SystemError) {
    calls += 1
    observeMappings()
    try real.truncate(file, to: length, path: path)
    descriptors[file]?.pending.append(.resize(length: length))
  }

  func rename(_ from: String, to: String) throws(SystemError) {
    calls += 1
    observeMappings()
    try real.rename(from, to: to)
    if let node = names[from] {
      names[to] = node
      names[from] = nil
      pendingEntries.append(.rename(from: from, to: to))
    }
  }

  func syncDirectory(_ path: String) throws(SystemError) {
    calls += 1
    observeMappings()
    onSyncPoint?("sync folder \(path)")
    try real.syncDirectory(path)
    var rest: [Entry] = []
    for entry in pendingEntries {
      if entry.folder == path { Self.apply(entry, to: &durableNames) } else { rest.append(entry) }
    }
    pendingEntries = rest
  }

  func makeDirectory(_ path: String) throws(SystemError) {
    calls += 1
    try real.makeDirectory(path)
  }

  func remove(_ path: String) throws(SystemError) {
    calls += 1
    observeMappings()
    try real.remove(path)
    if names[path] != nil {
      names[path] = nil
      pendingEntries.append(.remove(path: path))
    }
  }

  func exists(_ path: String) -> Bool { real.exists(path) }

  static func apply(_ entry: Entry, to names: inout [String: Node]) {
    switch entry {
    case .link(let path, let node): names[path] = node
    case .rename(let from, let to):
      if let node = names[from] {
        names[to] = node
        names[from] = nil
      }
    case .remove(let path): names[path] = nil
    }
  }
}

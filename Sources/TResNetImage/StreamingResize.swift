import TResNetCore

/// `PILResample.resize(image.oriented(orientation), …, columns:, rows:)` computed from the stored rows as a
/// decoder hands them out, without ever holding the image: the first pass (Pillow's order, `verticalFirst`)
/// consumes each row as it arrives, the second runs on the first's small output at the end.
///
/// Pillow's 8-bit passes sum integers (`ss += k * pixel` from one half, `>> 22` and clipped at the end), so the
/// order of the terms does not matter. A stored row is an oriented row (EXIF orientations 1–4) or an oriented
/// column (5–8). When it runs along the first pass's axis, that pass's outputs for it are computed at once
/// ("gather"); when it runs across, each pixel adds its weighted terms to the sums of the outputs whose windows
/// contain it ("scatter", `Int32` sums: a partial sum stays within ±255 × 1.2 × 2²² of one half). Either way the
/// first pass's output is byte for byte PIL's intermediate image, restricted like `PILResample.resize` to what
/// the window needs.
struct StreamingResize {
    enum Axis { case horizontal, vertical }

    let orientation: ExifOrientation
    let storedWidth: Int
    let storedHeight: Int
    let columns: Range<Int>
    let rows: Range<Int>
    /// The first pass's axis and coefficients (nil: no resampling, the window is copied).
    let first: (axis: Axis, k: PILResample.Coefficients)?
    /// The oriented range of the other axis the first pass keeps (the rows or columns the second pass reads).
    let kept: Range<Int>
    let second: (axis: Axis, k: PILResample.Coefficients)?
    /// The first pass's output, `planeRows × planeColumns` RGB.
    let planeRows: Range<Int>
    let planeColumns: Range<Int>
    /// Rows arrive across the first pass's axis.
    let scatter: Bool
    private var plane: [UInt8] = []
    private var sums: [Int32] = []
    /// Scatter: for input `i` of the first pass, its outputs `output[start[i]..<start[i + 1]]` with `weight`s.
    private var start: [Int] = []
    private var output: [Int32] = []
    private var weight: [Int32] = []

    /// The plan for a stored `storedWidth × storedHeight` image shown in `orientation`, resized to
    /// `width × height` with `filter`, window `columns × rows`; nothing image-sized is allocated yet (`bytes`
    /// says how much `allocate()` will).
    init(
        storedWidth: Int, storedHeight: Int, orientation: ExifOrientation, width: Int, height: Int,
        filter: Interpolation, columns: Range<Int>, rows: Range<Int>
    ) {
        self.orientation = orientation
        self.storedWidth = storedWidth
        self.storedHeight = storedHeight
        self.columns = columns
        self.rows = rows
        let (ow, oh) = orientation.swapsSides ? (storedHeight, storedWidth) : (storedWidth, storedHeight)
        let hk =
            width != ow
            ? PILResample.coefficients(inSize: ow, outSize: width, filter: filter, range: columns) : nil
        let vk =
            height != oh
            ? PILResample.coefficients(inSize: oh, outSize: height, filter: filter, range: rows) : nil
        if let hk, let vk, PILResample.verticalFirst(from: (ow, oh), to: (width, height)) {
            (first, kept, second) = ((.vertical, vk), hk.inputRange, (.horizontal, hk))
        } else if let hk {
            (first, kept, second) = ((.horizontal, hk), vk?.inputRange ?? rows, vk.map { (.vertical, $0) })
        } else if let vk {
            (first, kept, second) = ((.vertical, vk), columns, nil)
        } else {
            (first, kept, second) = (nil, rows, nil)
        }
        switch first?.axis {
        case .horizontal: (planeRows, planeColumns) = (kept, columns)
        case .vertical: (planeRows, planeColumns) = (rows, kept)
        case nil: (planeRows, planeColumns) = (rows, columns)
        }
        scatter = first.map { ($0.axis == .horizontal) == orientation.swapsSides } ?? false  // rows run along x: 1–4
    }

    /// The bytes `allocate()` and `finish()` will hold: the first pass's output (and its sums and contribution
    /// lists when scattering), the second pass's output.
    var bytes: Int? {
        let cells = Checked.product([planeRows.count, planeColumns.count, 3])
        let sumBytes = scatter ? cells.flatMap { Checked.multiply($0, 4) } : 0
        let entries = first.map { $0.k.weights.count } ?? 0
        let lists = scatter ? Checked.multiply(entries, 16) : 0
        return Checked.sum([cells, sumBytes, lists, Checked.product([columns.count, rows.count, 3])])
    }

    /// Allocates the first pass's buffers (after `bytes` was checked against the budget).
    mutating func allocate() {
        let cells = planeRows.count * planeColumns.count * 3
        plane = [UInt8](repeating: 0, count: cells)
        guard scatter, let k = first?.k else { return }
        sums = [Int32](repeating: Int32(1 << (PILResample.precisionBits - 1)), count: cells)
        let inputs = k.inputRange
        var counts = [Int](repeating: 0, count: inputs.count + 1)
        for j in 0..<k.count {
            for t in 0..<k.counts[j] { counts[k.starts[j] + t - inputs.lowerBound + 1] += 1 }
        }
        for i in 0..<inputs.count { counts[i + 1] += counts[i] }
        start = counts
        output = [Int32](repeating: 0, count: counts[inputs.count])
        weight = [Int32](repeating: 0, count: counts[inputs.count])
        var next = counts
        for j in 0..<k.count {
            for t in 0..<k.counts[j] {
                let i = k.starts[j] + t - inputs.lowerBound
                output[next[i]] = Int32(j)
                weight[next[i]] = Int32(k.weights[j * k.ksize + t])
                next[i] += 1
            }
        }
    }

    /// Takes stored row `y` (`storedWidth` RGB pixels).
    mutating func add(_ rgb: UnsafeBufferPointer<UInt8>, y: Int) {
        let line = orientation.line(ofStoredRow: y, height: storedHeight)
        let n = storedWidth
        let reversed = line.reversed
        @inline(__always) func at(_ p: Int) -> Int { (reversed ? n - 1 - p : p) * 3 }
        guard let (axis, k) = first else {
            copy(rgb, line: line, at: at)
            return
        }
        let (oStride, jStride) = axis == .horizontal ? (k.count, 1) : (1, kept.count)
        if !scatter {
            guard kept.contains(line.index) else { return }
            let o = line.index - kept.lowerBound
            plane.withUnsafeMutableBufferPointer { dst in
                k.weights.withUnsafeBufferPointer { kk in
                    for j in 0..<k.count {  // a reversed line reads its pixels backwards
                        PILResample.convolvePixel(
                            rgb, first: at(k.starts[j]), step: reversed ? -3 : 3, count: k.counts[j], weights: kk,
                            k: j * k.ksize, into: dst, at: (o * oStride + j * jStride) * 3)
                    }
                }
            }
            return
        }
        let inputs = k.inputRange
        guard inputs.contains(line.index) else { return }
        let i = line.index - inputs.lowerBound
        let lower = kept.lowerBound
        sums.withUnsafeMutableBufferPointer { acc in
            for e in start[i]..<start[i + 1] {
                let j = Int(output[e]), w = weight[e]
                for p in kept {
                    let s = at(p), d = ((p - lower) * oStride + j * jStride) * 3
                    acc[d] += Int32(rgb[s]) * w
                    acc[d + 1] += Int32(rgb[s + 1]) * w
                    acc[d + 2] += Int32(rgb[s + 2]) * w
                }
            }
        }
    }

    /// No resampling: the window's pixels of the line.
    private mutating func copy(
        _ rgb: UnsafeBufferPointer<UInt8>, line: (alongX: Bool, index: Int, reversed: Bool), at: (Int) -> Int
    ) {
        let (along, across) = line.alongX ? (columns, rows) : (rows, columns)
        guard across.contains(line.index) else { return }
        for p in along {
            let (x, y) = line.alongX ? (p, line.index) : (line.index, p)
            let s = at(p), d = ((y - rows.lowerBound) * columns.count + x - columns.lowerBound) * 3
            plane[d] = rgb[s]
            plane[d + 1] = rgb[s + 1]
            plane[d + 2] = rgb[s + 2]
        }
    }

    /// The `columns × rows` window, after every stored row was added.
    mutating func finish() -> RGBImage {
        if scatter {
            for i in 0..<plane.count { plane[i] = PILResample.clip8(Int(sums[i])) }
            sums = []
        }
        let p = PILResample.Plane(pixels: plane, width: planeColumns.count, columns: planeColumns, rows: planeRows)
        plane = []
        switch second {
        case (.vertical, let k)?: return PILResample.verticalPass(p, columns: columns, k: k, outRows: rows).image
        case (.horizontal, let k)?: return PILResample.horizontalPass(p, rows: rows, k: k, outColumns: columns).image
        case nil: return p.image
        }
    }
}

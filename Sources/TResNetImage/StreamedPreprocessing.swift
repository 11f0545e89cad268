import TResNetCore

extension Preprocessing {
    /// `resizedAndCropped(ImageDecoder.decode(bytes))` — the same bytes — without holding the decoded image:
    /// the decoder's rows stream into the resize's first pass (`StreamingResize`). What is held at once is the
    /// decoder's own buffers (`DecodeHeader.decoderBytes`: a few rows, or libjpeg's coefficients for a
    /// progressive JPEG, libpng's stored image for an interlaced PNG), the resize coefficients, the first pass's
    /// output (the crop window's columns × the rows the second pass reads, or the reverse) and the crop; checked
    /// against `limits.memoryBudget` before any of it is allocated.
    /// - Throws: as `ImageDecoder.decode`; `.limitExceeded` when the buffers above exceed the budget.
    public func resizedAndCropped(bytes: UnsafeRawBufferPointer) throws -> RGBImage {
        try resizedAndCropped(bytes: bytes, orientation: nil)
    }

    /// As `resizedAndCropped(bytes:)`, shown in `orientation` instead of the file's when given.
    func resizedAndCropped(bytes: UnsafeRawBufferPointer, orientation forced: ExifOrientation?) throws -> RGBImage {
        var orientation = forced
        while true {
            var stream: (resize: StreamingResize, plan: CropPlan)? = nil
            var used = ExifOrientation.normal
            let recorded = try ImageDecoder.decodeRows(
                bytes, limits: limits, orientation: orientation,
                start: { header, oriented in
                    used = oriented
                    stream = try streamingResize(
                        format: header.format, storedWidth: header.width, storedHeight: header.height,
                        orientation: oriented, decoderBytes: header.decoderBytes)
                },
                row: { y, rgb in stream!.resize.add(rgb, y: y) })
            guard var stream else { throw TResNetError(.malformed, format: "image", "no image data") }
            if recorded == used || orientation != nil { return stream.plan.padded(stream.resize.finish()) }
            orientation = recorded  // a PNG eXIf after the image data: decode again, shown as PIL shows it
        }
    }

    /// The streaming resize (allocated) and crop plan for a stored `storedWidth × storedHeight` image shown in
    /// `orientation`, after checking its buffers plus the decoder's `decoderBytes` against the budget.
    func streamingResize(
        format: String, storedWidth: Int, storedHeight: Int, orientation: ExifOrientation, decoderBytes: Int
    ) throws -> (resize: StreamingResize, plan: CropPlan) {
        let (w, h) = orientation.swapsSides ? (storedHeight, storedWidth) : (storedWidth, storedHeight)
        let plan = try cropPlan(width: w, height: h)
        let filter = config.interpolation
        var total = [
            decoderBytes,
            PILResample.coefficientBytes(
                inSize: w, outSize: plan.target.width, filter: filter, count: plan.columns.count),
            PILResample.coefficientBytes(
                inSize: h, outSize: plan.target.height, filter: filter, count: plan.rows.count),
            Checked.product([plan.size, plan.size, 3])  // the crop (its f32 tensor is the output, not counted)
        ]
        try limits.checkMemory(format, width: w, height: h, bytes: Checked.sum(total))
        var resize = StreamingResize(
            storedWidth: storedWidth, storedHeight: storedHeight, orientation: orientation,
            width: plan.target.width, height: plan.target.height, filter: filter,
            columns: plan.columns, rows: plan.rows)
        total.append(resize.bytes)
        try limits.checkMemory(format, width: w, height: h, bytes: Checked.sum(total))
        resize.allocate()
        return (resize, plan)
    }
}

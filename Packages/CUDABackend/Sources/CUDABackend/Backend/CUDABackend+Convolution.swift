import TensorCore

/// Convolution as im2col + cuBLAS GEMMs (batched over the images of a chunk, one call per
/// group), the input gradient as GEMM + col2im, max pooling as a direct kernel.
extension CUDABackend {
    /// Kernel-side `struct Geometry` (13 ints).
    private func geometryBytes(channels: Int, height: Int, width: Int, kernel: (Int, Int), stride: (Int, Int),
                               padding: (Int, Int), dilation: (Int, Int), output: (Int, Int)) -> [UInt8] {
        let values = [channels, height, width, kernel.0, kernel.1, stride.0, stride.1, padding.0, padding.1,
                      dilation.0, dilation.1, output.0, output.1].map { Int32($0) }
        return values.withUnsafeBytes { [UInt8]($0) }
    }

    private struct Plan {
        var images, channels, height, width, outChannels, kh, kw, outH, outW, groups: Int
        var positions: Int { outH * outW }
        var rowsPerGroup: Int { channels / groups * kh * kw }
        var columnRows: Int { channels * kh * kw }
        /// Images per chunk, bounding the column buffer to about 256 MB.
        func chunk(byteSize: Int) -> Int { max(1, min(images, (256 << 20) / max(columnRows * positions * byteSize, 1))) }
    }

    private func plan(input: [Int], weight: [Int], output: [Int], groups: Int) -> Plan {
        Plan(images: input[0], channels: input[1], height: input[2], width: input[3], outChannels: weight[0],
             kh: weight[2], kw: weight[3], outH: output[2], outW: output[3], groups: groups)
    }

    private func floatCheck(_ op: StaticString, _ operands: Operand...) {
        tensorCheck(operands.allSatisfy { $0.dtype.isFloatingPoint && $0.dtype == operands[0].dtype },
                    "[\(op)] \(device) convolution needs operands of one floating dtype, got \(operands.map(\.dtype))")
    }

    private func im2col(_ x: Operand, image: Int, count: Int, p: Plan, g: ConvolutionGeometry, into columns: Operand) {
        let geometry = geometryBytes(channels: p.channels, height: p.height, width: p.width, kernel: (p.kh, p.kw), stride: g.stride,
                                     padding: g.padding, dilation: g.dilation, output: (p.outH, p.outW))
        let first = x.with(layout: Layout(shape: [count * p.channels * p.height * p.width], strides: [1],
                                          offset: x.layout.offset + image * p.channels * p.height * p.width))
        launch(.im2col, x.dtype, count: count * p.columnRows * p.positions) { a in
            a.append(first); a.append(columns); a.appendBytes(geometry, alignment: 4); a.append(Int64(count))
        }
    }

    /// A contiguous [rows, columns] matrix view at `offset` elements into `operand`'s storage.
    private func matrix(_ operand: Operand, offset: Int, rows: Int, columns: Int, leading: Int, batchStride: Int,
                        transposed: Bool = false) -> MatrixStack {
        var s = MatrixStack(operand.with(layout: Layout(shape: [rows, columns], strides: [columns, 1], offset: operand.layout.offset + offset)),
                            rows: rows, columns: columns, batchShape: [])!
        s.leading = leading
        s.batchStride = batchStride
        s.transposed = transposed
        return s
    }

    public func conv2d(_ input: Operand, weight w: Operand, geometry g: ConvolutionGeometry, into out: Operand) {
        floatCheck("conv2d", input, w, out)
        let x = contiguous(input), weight = contiguous(w)
        let p = plan(input: x.shape, weight: weight.shape, output: out.shape, groups: g.groups)
        let target = out.layout.isContiguous ? out : makeOperand(shape: out.shape, dtype: out.dtype)
        let og = p.outChannels / p.groups, kg = p.rowsPerGroup
        let chunk = p.chunk(byteSize: x.dtype.byteSize)
        let columns = makeOperand(shape: [chunk * p.columnRows * p.positions], dtype: x.dtype)
        for image in stride(from: 0, to: p.images, by: chunk) {
            let count = min(chunk, p.images - image)
            im2col(x, image: image, count: count, p: p, g: g, into: columns)
            for group in 0..<p.groups {
                // out[n][group·og ..][P] = W_group [og, kg] · columns[n][group·kg ..][P]
                let a = matrix(weight, offset: group * og * kg, rows: og, columns: kg, leading: kg, batchStride: 0)
                let b = matrix(columns, offset: group * kg * p.positions, rows: kg, columns: p.positions, leading: p.positions,
                               batchStride: p.columnRows * p.positions)
                let c = matrix(target, offset: (image * p.outChannels + group * og) * p.positions, rows: og, columns: p.positions,
                               leading: p.positions, batchStride: p.outChannels * p.positions)
                gemm(a, b, c, m: og, n: p.positions, k: kg, batch: count, beta: 0)
            }
        }
        if target.storage !== out.storage { copy(target, into: out) }
    }

    public func conv2dInputGradient(_ gradient: Operand, weight w: Operand, geometry g: ConvolutionGeometry, into out: Operand) {
        floatCheck("conv2d input gradient", gradient, w, out)
        let gy = contiguous(gradient), weight = contiguous(w)
        let p = plan(input: out.shape, weight: weight.shape, output: gy.shape, groups: g.groups)
        let target = out.layout.isContiguous ? out : makeOperand(shape: out.shape, dtype: out.dtype)
        let og = p.outChannels / p.groups, kg = p.rowsPerGroup
        let chunk = p.chunk(byteSize: gy.dtype.byteSize)
        let columns = makeOperand(shape: [chunk * p.columnRows * p.positions], dtype: gy.dtype)
        let geometry = geometryBytes(channels: p.channels, height: p.height, width: p.width, kernel: (p.kh, p.kw), stride: g.stride,
                                     padding: g.padding, dilation: g.dilation, output: (p.outH, p.outW))
        for image in stride(from: 0, to: p.images, by: chunk) {
            let count = min(chunk, p.images - image)
            for group in 0..<p.groups {
                // columns[n][group·kg ..] = W_groupᵀ [kg, og] · gy[n][group·og ..] [og, P]
                let a = matrix(weight, offset: group * og * kg, rows: kg, columns: og, leading: kg, batchStride: 0, transposed: true)
                let b = matrix(gy, offset: (image * p.outChannels + group * og) * p.positions, rows: og, columns: p.positions,
                               leading: p.positions, batchStride: p.outChannels * p.positions)
                let c = matrix(columns, offset: group * kg * p.positions, rows: kg, columns: p.positions, leading: p.positions,
                               batchStride: p.columnRows * p.positions)
                gemm(a, b, c, m: kg, n: p.positions, k: og, batch: count, beta: 0)
            }
            let slice = target.with(layout: Layout(shape: [count * p.channels * p.height * p.width], strides: [1],
                                                   offset: target.layout.offset + image * p.channels * p.height * p.width))
            launch(.col2im, gy.dtype, count: count * p.channels * p.height * p.width) { a in
                a.append(columns); a.append(slice); a.appendBytes(geometry, alignment: 4); a.append(Int64(count))
            }
        }
        if target.storage !== out.storage { copy(target, into: out) }
    }

    public func conv2dWeightGradient(_ input: Operand, gradient: Operand, geometry g: ConvolutionGeometry, into out: Operand) {
        floatCheck("conv2d weight gradient", input, gradient, out)
        let x = contiguous(input), gy = contiguous(gradient)
        let p = plan(input: x.shape, weight: out.shape, output: gy.shape, groups: g.groups)
        let target = out.layout.isContiguous ? out : makeOperand(shape: out.shape, dtype: out.dtype)
        let og = p.outChannels / p.groups, kg = p.rowsPerGroup
        let chunk = p.chunk(byteSize: x.dtype.byteSize)
        let columns = makeOperand(shape: [chunk * p.columnRows * p.positions], dtype: x.dtype)
        var first = true
        for image in stride(from: 0, to: p.images, by: chunk) {
            let count = min(chunk, p.images - image)
            im2col(x, image: image, count: count, p: p, g: g, into: columns)
            // dW_group [og, kg] += gy[n][group·og ..] [og, P] · columns[n][group·kg ..]ᵀ [P, kg], image by image.
            for n in 0..<count {
                for group in 0..<p.groups {
                    let a = matrix(gy, offset: ((image + n) * p.outChannels + group * og) * p.positions, rows: og, columns: p.positions,
                                   leading: p.positions, batchStride: 0)
                    let b = matrix(columns, offset: (n * p.columnRows + group * kg) * p.positions, rows: p.positions, columns: kg,
                                   leading: p.positions, batchStride: 0, transposed: true)
                    let c = matrix(target, offset: group * og * kg, rows: og, columns: kg, leading: kg, batchStride: 0)
                    gemm(a, b, c, m: og, n: kg, k: p.positions, batch: 1, beta: first ? 0 : 1)
                }
                first = false
            }
        }
        if p.images == 0 { fill(target, with: 0) }
        if target.storage !== out.storage { copy(target, into: out) }
    }

    public func maxPool2d(_ input: Operand, kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int),
                          into out: Operand, indices: Operand) {
        tensorCheck(input.dtype.isFloatingPoint, "[maxPool2d] \(device) pooling needs a floating dtype, got \(input.dtype)")
        let x = contiguous(input)
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let (oh, ow) = (out.shape[2], out.shape[3])
        let values = out.layout.isContiguous ? out : makeOperand(shape: out.shape, dtype: out.dtype)
        let where_ = indices.layout.isContiguous ? indices : makeOperand(shape: indices.shape, dtype: .int64)
        let geometry = geometryBytes(channels: c, height: h, width: w, kernel: kernel, stride: stride, padding: padding,
                                     dilation: (1, 1), output: (oh, ow))
        launch(.maxPool2d, x.dtype, count: n * c * oh * ow) { a in
            a.append(x); a.append(values); a.append(where_); a.appendBytes(geometry, alignment: 4); a.append(Int64(n * c))
        }
        if values.storage !== out.storage { copy(values, into: out) }
        if where_.storage !== indices.storage { copy(where_, into: indices) }
    }
}

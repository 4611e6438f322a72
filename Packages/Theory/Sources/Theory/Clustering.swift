import TensorCore

/// A clustering: one label per point, the centres (k-means) and the within-cluster sum of
/// squared distances.
public struct Clustering {
    /// int64 `[n]`, in 0..<k.
    public var labels: Tensor
    /// `[k, d]` (for spectral clustering: the centres in the embedding).
    public var centroids: Tensor
    /// The sum of squared distances of the points to their centres.
    public var inertia: Double
    /// Lloyd iterations of the best restart.
    public var iterations: Int
}

/// k-means (Lloyd's algorithm with k-means++ seeding, the best of `restarts` by inertia, as
/// scikit-learn's `KMeans`).
public enum KMeans {
    /// Clusters the rows of `x [n, d]` into `k`.
    public static func fit(_ x: Tensor, k: Int, restarts: Int = 10, maxIterations: Int = 300, tolerance: Double = 1e-8,
                           generator: RandomGenerator) -> Clustering {
        tensorCheck(x.rank == 2 && x.shape[0] >= k && k >= 1,
                    "[KMeans] needs points [n, d] with n ≥ k ≥ 1, got \(shapeText(x.shape)) and k = \(k)")
        tensorCheck(x.dtype.isFloatingPoint, "[KMeans] needs floating-point points, got \(x.dtype)")
        return withoutGradients {
            var best: Clustering?
            for _ in 0..<Swift.max(restarts, 1) {
                let run = lloyd(x, seeds: plusPlus(x, k: k, generator: generator), maxIterations: maxIterations,
                                tolerance: tolerance)
                if best == nil || run.inertia < best!.inertia { best = run }
            }
            return best!
        }
    }

    /// k-means++: each next centre drawn with probability proportional to the squared
    /// distance to the nearest centre so far (Arthur & Vassilvitskii).
    static func plusPlus(_ x: Tensor, k: Int, generator: RandomGenerator) -> Tensor {
        let n = x.shape[0]
        let first = Int(Tensor.rand([1], generator: generator).item(as: Double.self) * Double(n)) % n
        var chosen = [first]
        var nearest = squaredDistances(x, x.narrowed(axis: 0, start: first, length: 1)).squeezed(axis: 1)
        while chosen.count < k {
            let weights = nearest.scalars(as: Double.self)
            let total = weights.reduce(0, +)
            var target = Tensor.rand([1], generator: generator).item(as: Double.self) * total
            var pick = n - 1
            if total > 0 {
                for (i, w) in weights.enumerated() {
                    target -= w
                    if target < 0 { pick = i; break }
                }
            } else {
                pick = (0..<n).first { !chosen.contains($0) } ?? 0
            }
            chosen.append(pick)
            nearest = nearest.minimum(squaredDistances(x, x.narrowed(axis: 0, start: pick, length: 1)).squeezed(axis: 1))
        }
        return x.indexSelect(axis: 0, indices: Tensor(chosen.map(Int64.init), shape: [k]))
    }

    static func lloyd(_ x: Tensor, seeds: Tensor, maxIterations: Int, tolerance: Double) -> Clustering {
        let k = seeds.shape[0]
        var centroids = seeds
        var labels = Tensor.zeros([x.shape[0]], dtype: .int64)
        var inertia = Double.infinity
        var iterations = 0
        for _ in 0..<maxIterations {
            iterations += 1
            let d = squaredDistances(x, centroids)
            labels = d.argmin(axis: 1)
            inertia = d.min(axes: [1]).sum().item(as: Double.self)
            // New centres: the means of their points (an emptied cluster keeps its centre).
            let oneHot = Tensor.oneHot(labels, classCount: k, dtype: x.dtype)
            let counts = oneHot.sum(axes: [0]).unsqueezed(axis: 1)
            let sums = oneHot.transposed().matmul(x)
            let updated = Tensor.where(counts .> 0, sums / counts.clamped(min: 1), centroids)
            let shift = (updated - centroids).squared().sum().item(as: Double.self)
            centroids = updated
            if shift <= tolerance * tolerance { break }
        }
        let d = squaredDistances(x, centroids)
        return Clustering(labels: d.argmin(axis: 1), centroids: centroids, inertia: d.min(axes: [1]).sum().item(as: Double.self),
                          iterations: iterations)
    }

    static func squaredDistances(_ x: Tensor, _ c: Tensor) -> Tensor {
        (x.squared().sum(axes: [1]).unsqueezed(axis: 1) + c.squared().sum(axes: [1]).unsqueezed(axis: 0)
            - 2 * x.matmul(c.transposed())).clamped(min: 0)
    }
}

/// Spectral clustering (Ng, Jordan & Weiss): a symmetric k-nearest-neighbour graph, the
/// normalised affinity `D^{-1/2} W D^{-1/2}`, its top-k eigenvectors with rows scaled to unit
/// length, and k-means on those rows. Finds the two moons and concentric circles, where
/// k-means on the points cannot (its clusters are convex).
public enum SpectralClustering {
    /// Clusters the rows of `x [n, d]` into `k` through a graph of each point's `neighbors` nearest.
    public static func fit(_ x: Tensor, k: Int, neighbors: Int = 10, generator: RandomGenerator) -> Clustering {
        tensorCheck(x.rank == 2 && x.shape[0] > neighbors && neighbors >= 1,
                    "[SpectralClustering] needs points [n, d] with n > neighbors ≥ 1, got \(shapeText(x.shape)), \(neighbors)")
        return withoutGradients {
            let points = x.cast(to: .float64)
            let n = points.shape[0]
            // Each point's `neighbors` nearest others (itself excluded), made symmetric.
            let d = KMeans.squaredDistances(points, points) + Tensor.eye(n, dtype: .float64) * Double.greatestFiniteMagnitude
            let nearest = d.topK(neighbors, axis: 1, largest: false).indices
            let directed = Tensor.zeros([n, n], dtype: .float64)
                .scatterAdding(axis: 1, index: nearest, source: Tensor.ones([n, neighbors], dtype: .float64))
            let w = ((directed + directed.transposed()) .> 0).cast(to: .float64)
            let scale = w.sum(axes: [1]).rsqrt()
            let normalized = scale.unsqueezed(axis: 1) * w * scale.unsqueezed(axis: 0)
            let vectors = Linalg.eigh(normalized).vectors.narrowed(axis: 1, start: n - k, length: k)
            let rows = vectors / Linalg.norm(vectors, ord: 2, axes: [1], keepDims: true).clamped(min: 1e-12)
            return KMeans.fit(rows, k: k, generator: generator)
        }
    }

    /// The fraction of points whose label matches `truth` under the best one-to-one matching
    /// of cluster labels to classes (all k! matchings; k ≤ 8).
    public static func accuracy(_ labels: Tensor, truth: Tensor, k: Int) -> Double {
        tensorCheck(k >= 1 && k <= 8, "[SpectralClustering.accuracy] matches k ≤ 8 clusters, got \(k)")
        let l = labels.scalars(as: Int64.self), t = truth.scalars(as: Int64.self)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: k), count: k)
        for (a, b) in zip(l, t) where a >= 0 && a < k && b >= 0 && b < k { counts[Int(a)][Int(b)] += 1 }
        var best = 0
        func search(_ cluster: Int, _ used: Set<Int>, _ total: Int) {
            if cluster == k { best = Swift.max(best, total); return }
            for c in 0..<k where !used.contains(c) { search(cluster + 1, used.union([c]), total + counts[cluster][c]) }
        }
        search(0, [], 0)
        return Double(best) / Double(Swift.max(l.count, 1))
    }
}

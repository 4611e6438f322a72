import COpenBLAS

/// The element types LAPACK factorises (float32 and float64). Each conformance only names its
/// LAPACK routines; the calls are written once, generically, below. Fortran takes every
/// argument by reference and character arguments carry a hidden length at the end.
protocol LAPACKScalar: TensorFloat {
    typealias I = UnsafePointer<Int32>?
    typealias C = UnsafePointer<CChar>?
    typealias P = UnsafeMutablePointer<Self>?
    typealias Q = UnsafePointer<Self>?
    typealias W = UnsafeMutablePointer<Int32>?
    static var getrf: (I, I, P, I, W, W) -> Void { get }
    static var getrs: (C, I, I, Q, I, I, P, I, W, Int) -> Void { get }
    static var potrf: (C, I, P, I, W, Int) -> Void { get }
    static var trtrs: (C, C, C, I, I, Q, I, P, I, W, Int, Int, Int) -> Void { get }
    static var geqrf: (I, I, P, I, P, P, I, W) -> Void { get }
    static var orgqr: (I, I, I, P, I, Q, P, I, W) -> Void { get }
    static var gesdd: (C, I, I, P, I, P, P, I, P, I, P, I, W, W, Int) -> Void { get }
    static var syevd: (C, C, I, P, I, P, P, I, W, I, W, Int, Int) -> Void { get }
    static var gelsd: (I, I, I, P, I, P, I, P, Q, W, P, I, W, W) -> Void { get }
    static var laswp: (I, P, I, I, I, I, I) -> Void { get }
    static var gemm: (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, Self, Q, Int32, Q, Int32, Self, P,
                      Int32) -> Void { get }
    static var trsm: (CBLAS_ORDER, CBLAS_SIDE, CBLAS_UPLO, CBLAS_TRANSPOSE, CBLAS_DIAG, Int32, Int32, Self, Q, Int32, P,
                      Int32) -> Void { get }
}

extension Float: LAPACKScalar {
    static var getrf: (I, I, P, I, W, W) -> Void { sgetrf_ }
    static var getrs: (C, I, I, Q, I, I, P, I, W, Int) -> Void { sgetrs_ }
    static var potrf: (C, I, P, I, W, Int) -> Void { spotrf_ }
    static var trtrs: (C, C, C, I, I, Q, I, P, I, W, Int, Int, Int) -> Void { strtrs_ }
    static var geqrf: (I, I, P, I, P, P, I, W) -> Void { sgeqrf_ }
    static var orgqr: (I, I, I, P, I, Q, P, I, W) -> Void { sorgqr_ }
    static var gesdd: (C, I, I, P, I, P, P, I, P, I, P, I, W, W, Int) -> Void { sgesdd_ }
    static var syevd: (C, C, I, P, I, P, P, I, W, I, W, Int, Int) -> Void { ssyevd_ }
    static var gelsd: (I, I, I, P, I, P, I, P, Q, W, P, I, W, W) -> Void { sgelsd_ }
    static var laswp: (I, P, I, I, I, I, I) -> Void { slaswp_ }
    static var gemm: (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, Float, Q, Int32, Q, Int32, Float, P,
                      Int32) -> Void { cblas_sgemm }
    static var trsm: (CBLAS_ORDER, CBLAS_SIDE, CBLAS_UPLO, CBLAS_TRANSPOSE, CBLAS_DIAG, Int32, Int32, Float, Q, Int32, P,
                      Int32) -> Void { cblas_strsm }
}

extension Double: LAPACKScalar {
    static var getrf: (I, I, P, I, W, W) -> Void { dgetrf_ }
    static var getrs: (C, I, I, Q, I, I, P, I, W, Int) -> Void { dgetrs_ }
    static var potrf: (C, I, P, I, W, Int) -> Void { dpotrf_ }
    static var trtrs: (C, C, C, I, I, Q, I, P, I, W, Int, Int, Int) -> Void { dtrtrs_ }
    static var geqrf: (I, I, P, I, P, P, I, W) -> Void { dgeqrf_ }
    static var orgqr: (I, I, I, P, I, Q, P, I, W) -> Void { dorgqr_ }
    static var gesdd: (C, I, I, P, I, P, P, I, P, I, P, I, W, W, Int) -> Void { dgesdd_ }
    static var syevd: (C, C, I, P, I, P, P, I, W, I, W, Int, Int) -> Void { dsyevd_ }
    static var gelsd: (I, I, I, P, I, P, I, P, Q, W, P, I, W, W) -> Void { dgelsd_ }
    static var laswp: (I, P, I, I, I, I, I) -> Void { dlaswp_ }
    static var gemm: (CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, Int32, Int32, Int32, Double, Q, Int32, Q, Int32, Double, P,
                      Int32) -> Void { cblas_dgemm }
    static var trsm: (CBLAS_ORDER, CBLAS_SIDE, CBLAS_UPLO, CBLAS_TRANSPOSE, CBLAS_DIAG, Int32, Int32, Double, Q, Int32, P,
                      Int32) -> Void { cblas_dtrsm }
}

public enum TensorCoreTestingPlaceholder {}

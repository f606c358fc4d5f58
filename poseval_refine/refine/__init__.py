"""PoseRefiner: model, input encoding, error synthesis, training and batched refinement."""

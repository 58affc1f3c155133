"""Runs ONNX models exported by backprop in ONNX's own checker and in onnxruntime.

Usage: run_models.py MANIFEST

Each line of MANIFEST is `model input output dtype axis...`: the model file, a file of
little-endian values (`f32` or `f64`) of shape `axis × ...` (the batch first), and
where to write the output in the same form. Exits non-zero, naming the model, if the checker
refuses a model or onnxruntime cannot run it.
"""

import sys

import numpy as np
import onnx
import onnxruntime


def run(model_path, input_path, output_path, dtype, shape):
    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    session = onnxruntime.InferenceSession(
        model_path, providers=["CPUExecutionProvider"]
    )
    x = np.fromfile(input_path, dtype=np.dtype(dtype).newbyteorder("<")).reshape(shape)
    (name,) = [i.name for i in session.get_inputs()]
    (y,) = session.run(None, {name: x})
    y.astype(np.dtype(dtype).newbyteorder("<")).tofile(output_path)


def main():
    (manifest,) = sys.argv[1:]
    dtypes = {"f32": "float32", "f64": "float64"}
    with open(manifest) as lines:
        for line in lines:
            model, input_path, output_path, dtype, *shape = line.split()
            try:
                run(model, input_path, output_path, dtypes[dtype], [int(d) for d in shape])
            except Exception as error:  # report which model, then fail
                print(f"{model}: {error}", file=sys.stderr)
                sys.exit(1)
    print(f"onnx {onnx.__version__}, onnxruntime {onnxruntime.__version__}")


if __name__ == "__main__":
    main()

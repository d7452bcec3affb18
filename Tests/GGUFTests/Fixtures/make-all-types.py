#!/usr/bin/env python3
# Writes all-types.gguf with the reference writer (PyPI `gguf`, llama.cpp's own Python package), so that the
# Swift reader is checked against a writer it shares no code with. Every metadata value type appears, a nested
# array too, a custom alignment, and tensors of F32, F16, I32 and Q8_0. Regenerate with:
#   pip install gguf==0.19.0 numpy && python3 make-all-types.py
import numpy as np
from gguf import GGUFWriter, GGUFValueType as V, GGMLQuantizationType as Q

w = GGUFWriter("all-types.gguf", arch="testarch")
w.add_custom_alignment(64)
w.add_key_value("t.u8", 255, V.UINT8)
w.add_key_value("t.i8", -128, V.INT8)
w.add_key_value("t.u16", 65535, V.UINT16)
w.add_key_value("t.i16", -32768, V.INT16)
w.add_key_value("t.u32", 4294967295, V.UINT32)
w.add_key_value("t.i32", -2147483648, V.INT32)
w.add_key_value("t.u64", 18446744073709551615, V.UINT64)
w.add_key_value("t.i64", -9223372036854775808, V.INT64)
w.add_key_value("t.f32", 1.5, V.FLOAT32)
w.add_key_value("t.f64", -2.25, V.FLOAT64)
w.add_key_value("t.bool.true", True, V.BOOL)
w.add_key_value("t.bool.false", False, V.BOOL)
w.add_key_value("t.str", "héllo ✓ 🦙", V.STRING)
w.add_key_value("t.arr.u8", [1, 2, 255], V.ARRAY, V.UINT8)
w.add_key_value("t.arr.i8", [-128, 127], V.ARRAY, V.INT8)
w.add_key_value("t.arr.u16", [65535], V.ARRAY, V.UINT16)
w.add_key_value("t.arr.i16", [-1, 300], V.ARRAY, V.INT16)
w.add_key_value("t.arr.u32", [7], V.ARRAY, V.UINT32)
w.add_key_value("t.arr.i32", [-5, 0, 5], V.ARRAY, V.INT32)
w.add_key_value("t.arr.u64", [1, 18446744073709551615], V.ARRAY, V.UINT64)
w.add_key_value("t.arr.i64", [-9223372036854775808, 9], V.ARRAY, V.INT64)
w.add_key_value("t.arr.f32", [0.5, -1.0, 3.25], V.ARRAY, V.FLOAT32)
w.add_key_value("t.arr.f64", [0.125], V.ARRAY, V.FLOAT64)
w.add_key_value("t.arr.bool", [True, False, True], V.ARRAY, V.BOOL)
w.add_key_value("t.arr.str", ["a", "", "ünï", "<0x0A>"], V.ARRAY, V.STRING)
w.add_key_value("t.arr.nested", [[1, 2], [3]], V.ARRAY, V.ARRAY)
w.add_tensor("f32.weight", np.arange(6, dtype=np.float32).reshape(2, 3))
w.add_tensor("f16.weight", np.array([1.0, -2.0, 0.5, 65504.0], dtype=np.float16))
w.add_tensor("i32.weight", np.array([-1, 2, -3], dtype=np.int32))
w.add_tensor("q8_0.weight", np.arange(68, dtype=np.uint8).reshape(2, 34), raw_dtype=Q.Q8_0)
w.write_header_to_file()
w.write_kv_data_to_file()
w.write_tensors_to_file()
w.close()

"""The sandboxed code: every file the worker runs, and the only code of the grader that runs beside the student's.

Student code runs only in a sandboxed worker process (``sandbox.py``, ``pool.py``), and that process runs
the files of this folder and nothing else of the grader:

- ``worker.py``: loads the student's cells and answers the grader's requests;
- ``wire.py``: the plain data that crosses between grader and worker;
- ``confine.py``: the confinement the worker applies to itself before any student code;
- ``drivers/``: how one request calls a student's unit, one module per driver; ``drivers/keras/`` holds
  the Keras drivers and ``model_spec.py``, the model description they share with the references.

``runtime.worker_files`` copies every ``.py`` file under this folder (``drivers/keras/`` only for the
assignments whose backend needs Keras; this file, the grader's package marker, not at all) beside
``worker.py`` in the sandbox, where ``wire``, ``confine`` and ``drivers`` are top-level modules; in the
grader the same files are this package's modules. Whatever they do is untrusted once student code has
run: they import only the standard library, NumPy (and Keras in the Keras drivers), never anything
trusted (no reference, case, secret or score: the import-linter contract "The sandbox's files know
nothing trusted" in ``pyproject.toml`` checks it).
"""

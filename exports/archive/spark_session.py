"""The Spark session of an archive job: quiet, no UI, loopback only in local mode, and a clear error without Java.

Under ``spark-submit`` the master is spark-submit's (``--master`` given there); otherwise ``local[N]``. A session
that cannot start (no ``java`` on PATH and no ``JAVA_HOME``, or a JVM that exits) is a one-line ``ToolkitError``
before anything is written, instead of pyspark's gateway traceback.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import warnings

from pyspark.errors import PySparkException
from pyspark.sql import SparkSession

from schemas import ToolkitError

_NO_JAVA = "install Debian's default-jre-headless or set JAVA_HOME"
# Local mode: errors only, from the JVM's first line on (a log level set after the start comes after Spark's
# banner of WARN lines).
_LOG4J = """rootLogger.level = error
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""


def _log4j_file() -> str:
    with tempfile.NamedTemporaryFile("w", prefix="annotate-log4j2-", suffix=".properties", delete=False) as f:
        f.write(_LOG4J)
    return f.name


def default_master(workers: int) -> str | None:
    """spark-submit's master when launched by it (None: leave it to spark-submit), else ``local[workers]``."""
    if "PYSPARK_GATEWAY_PORT" in os.environ:  # set by spark-submit for the Python driver it starts
        return None
    return f"local[{workers}]"


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home:
        return os.access(os.path.join(home, "bin", "java"), os.X_OK)
    return shutil.which("java") is not None


def spark_session(master: str | None, app_name: str = "annotate extract") -> SparkSession:
    """A session on ``master`` (None: spark-submit's), or a ``ToolkitError`` saying why Spark cannot start."""
    if "PYSPARK_GATEWAY_PORT" not in os.environ and not _java_found():
        where = f"JAVA_HOME={os.environ['JAVA_HOME']} has no bin/java" if os.environ.get("JAVA_HOME") else \
            "no java on PATH and JAVA_HOME is not set"
        raise ToolkitError(f"Spark cannot start: {where}; {_NO_JAVA}")
    builder = (SparkSession.builder.appName(app_name).config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false"))
    if master is not None:
        builder = builder.master(master)
    if master is not None and master.startswith("local"):
        # One machine: nothing listens beyond loopback (and no guess of the host's address is needed), and the
        # Python workers are this interpreter (the one with the project's dependencies), not PATH's python3.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # read by pyspark's SparkContext, not a conf
        builder = (builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{_log4j_file()}"))
    else:
        builder = builder.config("spark.log.level", "ERROR")
    try:
        with warnings.catch_warnings():  # pyspark's notice about pandas 3, which this job does not use
            warnings.filterwarnings("ignore", "PySpark does not yet fully support pandas", FutureWarning)
            session = builder.getOrCreate()
    except (PySparkException, OSError, RuntimeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ToolkitError(f"Spark cannot start: {first}; {_NO_JAVA}") from None
    return session

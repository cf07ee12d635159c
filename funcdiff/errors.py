"""The errors funcdiff raises for misused traced values, under the names of `jax.errors`."""

from funcdiff._src.errors import ConcretizationTypeError as ConcretizationTypeError
from funcdiff._src.errors import JAXIndexError as JAXIndexError
from funcdiff._src.errors import JAXTypeError as JAXTypeError
from funcdiff._src.errors import NonConcreteBooleanIndexError as NonConcreteBooleanIndexError
from funcdiff._src.errors import TracerArrayConversionError as TracerArrayConversionError
from funcdiff._src.errors import TracerBoolConversionError as TracerBoolConversionError
from funcdiff._src.errors import TracerIntegerConversionError as TracerIntegerConversionError
from funcdiff._src.errors import UnexpectedTracerError as UnexpectedTracerError

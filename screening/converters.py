"""URL converters."""

from screening.rules import Stage


class StageConverter:
    """A screening stage in a URL: title_abstract or full_text."""

    regex = "|".join(stage.value for stage in Stage)

    def to_python(self, value: str) -> Stage:
        return Stage(value)

    def to_url(self, value: Stage | str) -> str:
        return Stage(value).value

from django.apps import AppConfig
from django.urls import register_converter


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "Screening"

    def ready(self) -> None:
        from reviews.dashboard import Card, register
        from screening.converters import StageConverter
        from screening.dashboard import screening_card

        register_converter(StageConverter, "stage")
        register(
            Card(order=30, template="screening/_card.html", context=screening_card)
        )

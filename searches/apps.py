from django.apps import AppConfig


class SearchesConfig(AppConfig):
    name = "searches"
    verbose_name = "Searches and records"

    def ready(self) -> None:
        from reviews.dashboard import Card, register
        from searches.dashboard import searches_card

        register(Card(order=10, template="searches/_card.html", context=searches_card))

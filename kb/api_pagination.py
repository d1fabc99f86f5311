from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """`page` and `page_size` (default 30, at most 100).

    The response has results, count, next and previous."""

    page_size = 30
    page_size_query_param = "page_size"
    max_page_size = 100

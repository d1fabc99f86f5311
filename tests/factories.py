import itertools

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from kb.models import Answer, Question, Tag
from kb.permissions import MODERATOR_GROUP
from kb.services.answers import answer_create
from kb.services.questions import question_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("correct horse battery staple")


def moderator_create(**kwargs) -> User:
    user = UserFactory(**kwargs)
    group, _ = Group.objects.get_or_create(name=MODERATOR_GROUP)
    user.groups.add(group)
    return user


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag{n}")
    description = "测试标签"


_question_numbers = itertools.count(1)


def question_make(
    *,
    author: User | None = None,
    title: str | None = None,
    body: str = "问题正文:LayerNorm 和 RMSNorm 有什么区别?",
    tags=("llm",),
) -> Question:
    """A question made through the real service, so it has revision 1 like every other."""
    author = author or UserFactory()
    title = title or f"测试问题第 {next(_question_numbers)} 号:注意力机制"
    return question_create(actor=author, title=title, body=body, tags=list(tags))


def answer_make(
    *,
    question: Question,
    author: User | None = None,
    body: str = "回答:RMSNorm 去掉了均值中心化, $y = x / \\mathrm{RMS}(x)$。",
) -> Answer:
    return answer_create(actor=author or UserFactory(), question=question, body=body)

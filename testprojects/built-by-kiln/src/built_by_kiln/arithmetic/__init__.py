from .circle import area

__all__ = ['area']

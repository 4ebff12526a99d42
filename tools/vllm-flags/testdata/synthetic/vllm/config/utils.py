def config(cls=None, **kwargs):
    return cls

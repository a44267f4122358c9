a = [1, (2,), {'k': -3.5e-2}]
b = a[0] * 2 // 3 % 5
c = 'x' 'y' + """z"""
d = dict(**{'q': None}, r=True)
e = list(()) + [*a]

# xent family: included by _core.pyx (shares its helpers); empty until the family lands

from liqstress.cli import main

main()

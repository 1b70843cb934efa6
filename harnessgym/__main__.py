from harnessgym.cli import main

main()
